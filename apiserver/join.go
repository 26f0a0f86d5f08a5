package apiserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/minik8s/minik8s/api"
)

// nodeTokenPrefix starts every node token: "node:NAME:MAC".
const nodeTokenPrefix = "node:"

// NodeToken is the bearer token of a node: its name and an HMAC of the name under the join
// token, so that the server needs no store of them. Anyone with the join token can make one,
// which is the same trust the join token already grants.
func (c *Credentials) NodeToken(node string) string {
	m := hmac.New(sha256.New, []byte(c.JoinToken))
	m.Write([]byte(node))
	return nodeTokenPrefix + node + ":" + hex.EncodeToString(m.Sum(nil))
}

// nodeOfToken returns the node a token belongs to, or "".
func (c *Credentials) nodeOfToken(tok string) string {
	rest, ok := strings.CutPrefix(tok, nodeTokenPrefix)
	if !ok {
		return ""
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		return ""
	}
	node := rest[:i]
	if subtle.ConstantTimeCompare([]byte(tok), []byte(c.NodeToken(node))) != 1 {
		return ""
	}
	return node
}

// serveJoin answers POST /minik8s/v1/join, for the join token (or the admin).
func (s *Server) serveJoin(w http.ResponseWriter, r *http.Request, user string) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, newStatus(http.StatusMethodNotAllowed, api.StatusReasonMethodNotAllowed, "use POST").status)
		return
	}
	if user != userBootstrap && user != userAdmin {
		writeJSON(w, http.StatusForbidden, newStatus(http.StatusForbidden, api.StatusReasonForbidden, "joining needs the join token").status)
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, r, err, api.LookupResource("nodes"), "")
		return
	}
	var req api.JoinRequest
	if err := api.DecodeStrict(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, errBadRequest("join request: %v", err).status)
		return
	}
	if err := api.IsDNS1123Subdomain(req.NodeName); err != nil {
		writeJSON(w, http.StatusBadRequest, errBadRequest("nodeName %q: %v", req.NodeName, err).status)
		return
	}
	for _, a := range req.Addresses {
		if net.ParseIP(a) == nil {
			writeJSON(w, http.StatusBadRequest, errBadRequest("addresses: %q is not an IP address", a).status)
			return
		}
	}
	certPEM, key, err := IssueCertificate(s.creds.CACert, s.creds.CAKey, "kubelet-"+req.NodeName,
		append([]string{req.NodeName, "localhost"}, req.Addresses...), x509.ExtKeyUsageServerAuth)
	if err != nil {
		s.writeError(w, r, err, api.LookupResource("nodes"), req.NodeName)
		return
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		s.writeError(w, r, err, api.LookupResource("nodes"), req.NodeName)
		return
	}
	s.log.Info("node joined", "node", req.NodeName, "addresses", req.Addresses)
	writeJSON(w, http.StatusOK, api.JoinResponse{
		Token:        s.creds.NodeToken(req.NodeName),
		CertPEM:      string(certPEM),
		KeyPEM:       string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})),
		KubeletToken: s.creds.KubeletToken,
	})
}

// nodeMay says what a node's token may do: everything with Nodes; read Pods, write their
// status and delete them (once stopped); write Events; read Namespaces, Services and
// Endpoints (for the node's service proxy).
func nodeMay(res *api.Resource, ri requestInfo, method string) error {
	read := method == http.MethodGet
	switch res.Kind {
	case "Node", "Event":
		return nil
	case "Namespace", "Service", "Endpoints":
		if read {
			return nil
		}
	case "Pod":
		if read || method == http.MethodDelete || (ri.Subresource == "status" && (method == http.MethodPut || method == http.MethodPatch)) {
			return nil
		}
	}
	return fmt.Errorf("a node may not %s %s", strings.ToLower(method), res.Name+subresourceSuffix(ri))
}

func subresourceSuffix(ri requestInfo) string {
	if ri.Subresource == "" {
		return ""
	}
	return "/" + ri.Subresource
}

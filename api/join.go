package api

// JoinRequest is what `minik8s join` sends to POST /minik8s/v1/join (JoinPath) with the join token.
type JoinRequest struct {
	NodeName  string   `json:"nodeName"`
	Addresses []string `json:"addresses"`
}

// JoinResponse gives a joining node its credentials: a token of its own, a serving
// certificate for its kubelet signed by the cluster CA, and the token the API server presents
// to that kubelet.
type JoinResponse struct {
	Token        string `json:"token"`
	CertPEM      string `json:"certPEM"`
	KeyPEM       string `json:"keyPEM"`
	KubeletToken string `json:"kubeletToken"`
}

// JoinPath is where nodes join.
const JoinPath = "/minik8s/v1/join"

package apiserver

import (
	"fmt"
	"net/http"

	"github.com/minik8s/minik8s/api"
)

// bind answers POST .../pods/NAME/binding: it sets spec.nodeName of an unbound Pod, with
// compare-and-swap, and refuses a Pod that is bound already or being deleted (409).
func (s *Server) bind(w http.ResponseWriter, r *http.Request, res *api.Resource, ri requestInfo) {
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, r, err, res, ri.Name)
		return
	}
	var b api.Binding
	if err := api.DecodeStrict(body, &b); err != nil {
		s.writeError(w, r, errInvalid(res, ri.Name, err), res, ri.Name)
		return
	}
	if b.Target.Name == "" {
		s.writeError(w, r, errInvalid(res, ri.Name, api.ErrorList{api.Required("target.name", "the node to bind to")}), res, ri.Name)
		return
	}
	if b.Name != "" && b.Name != ri.Name {
		s.writeError(w, r, errBadRequest("the binding's name (%s) is not the pod's (%s)", b.Name, ri.Name), res, ri.Name)
		return
	}
	_, _, err = s.updateLoop(r, res, ri, func(old api.Object) (api.Object, error) {
		pod := api.DeepCopy(old.(*api.Pod))
		if pod.DeletionTimestamp != nil {
			return nil, newStatus(http.StatusConflict, api.StatusReasonConflict, fmt.Sprintf("pod %s is being deleted, cannot be bound", pod.Name))
		}
		if pod.Spec.NodeName != "" {
			return nil, newStatus(http.StatusConflict, api.StatusReasonConflict,
				fmt.Sprintf("pod %s is already assigned to node %q", pod.Name, pod.Spec.NodeName))
		}
		if b.UID != "" && b.UID != pod.UID {
			return nil, newStatus(http.StatusConflict, api.StatusReasonConflict, fmt.Sprintf("pod %s has another UID", pod.Name))
		}
		pod.Spec.NodeName = b.Target.Name
		return pod, nil
	}, true)
	if err != nil {
		s.writeError(w, r, err, res, ri.Name)
		return
	}
	st := newStatus(http.StatusCreated, "", "")
	st.status.Status = "Success"
	writeJSON(w, http.StatusCreated, st.status)
}

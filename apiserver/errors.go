package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/storage"
)

// statusError is an error that knows its HTTP answer: a Kubernetes Status object.
type statusError struct {
	status api.Status
}

func (e *statusError) Error() string { return e.status.Message }

func newStatus(code int, reason, msg string) *statusError {
	return &statusError{api.Status{
		TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"},
		Status:   "Failure", Code: int32(code), Reason: reason, Message: msg,
	}}
}

func errNotFound(res *api.Resource, name string) *statusError {
	e := newStatus(http.StatusNotFound, api.StatusReasonNotFound, fmt.Sprintf("%s %q not found", res.Name, name))
	e.status.Details = &api.StatusDetails{Name: name, Group: res.Group, Kind: res.Name}
	return e
}

func errAlreadyExists(res *api.Resource, name string) *statusError {
	e := newStatus(http.StatusConflict, api.StatusReasonAlreadyExists, fmt.Sprintf("%s %q already exists", res.Name, name))
	e.status.Details = &api.StatusDetails{Name: name, Group: res.Group, Kind: res.Name}
	return e
}

func errConflict(res *api.Resource, name string) *statusError {
	e := newStatus(http.StatusConflict, api.StatusReasonConflict, fmt.Sprintf(
		"Operation cannot be fulfilled on %s %q: the object has been modified; please apply your changes to the latest version and try again",
		res.Name, name))
	e.status.Details = &api.StatusDetails{Name: name, Group: res.Group, Kind: res.Name}
	return e
}

func errBadRequest(format string, args ...any) *statusError {
	return newStatus(http.StatusBadRequest, api.StatusReasonBadRequest, fmt.Sprintf(format, args...))
}

// errInvalid answers a manifest with bad fields. Kubernetes answers 422 for validation and 400
// for strict decoding; minik8s answers 400 for both (the reason is "Invalid" either way, which
// is what Kubernetes clients look at), so that every bad manifest gets the same answer.
func errInvalid(res *api.Resource, name string, err error) *statusError {
	var list api.ErrorList
	if !errors.As(err, &list) {
		return errBadRequest("%s", err.Error())
	}
	causes := make([]api.StatusCause, len(list))
	for i, fe := range list {
		causes[i] = api.StatusCause{Type: fe.Type, Message: fe.Error(), Field: fe.Field}
	}
	display := name
	if display == "" {
		display = "<unnamed>"
	}
	e := newStatus(http.StatusBadRequest, api.StatusReasonInvalid, fmt.Sprintf("%s %q is invalid: %s", res.Kind, display, list.Error()))
	e.status.Details = &api.StatusDetails{Name: name, Group: res.Group, Kind: res.Kind, Causes: causes}
	return e
}

// toStatus maps any error to its API answer; store errors are translated here and only here.
func toStatus(err error, res *api.Resource, name string) *statusError {
	var se *statusError
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, storage.ErrNotFound):
		return errNotFound(res, name)
	case errors.Is(err, storage.ErrAlreadyExists):
		return errAlreadyExists(res, name)
	case errors.Is(err, storage.ErrConflict):
		return errConflict(res, name)
	case errors.Is(err, storage.ErrGone):
		return newStatus(http.StatusGone, api.StatusReasonGone, "too old resource version: "+err.Error())
	}
	return newStatus(http.StatusInternalServerError, api.StatusReasonInternalError, err.Error())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(newStatus(code, api.StatusReasonInternalError, "encode the answer: "+err.Error()).status)
	}
	writeRaw(w, code, b)
}

// writeRaw answers with JSON that is already encoded.
func writeRaw(w http.ResponseWriter, code int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error, res *api.Resource, name string) {
	st := toStatus(err, res, name)
	if st.status.Code >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, int(st.status.Code), st.status)
}

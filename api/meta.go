package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// TypeMeta names an object's kind and API version, as in Kubernetes.
type TypeMeta struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
}

// GetTypeMeta returns the TypeMeta itself so that every kind satisfies Object.
func (t *TypeMeta) GetTypeMeta() *TypeMeta { return t }

// Time is a timestamp that marshals as RFC 3339 in UTC with second precision, like Kubernetes'
// metav1.Time. The zero Time marshals as null.
type Time struct {
	time.Time
}

// Now returns the current time truncated to seconds.
func Now() Time { return Time{time.Now().UTC().Truncate(time.Second)} }

// NewTime wraps t.
func NewTime(t time.Time) Time { return Time{t.UTC().Truncate(time.Second)} }

// MarshalJSON writes RFC 3339 or null.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339))
}

// UnmarshalJSON reads RFC 3339 or null.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("expected a timestamp string such as \"2024-01-02T15:04:05Z\"")
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	pt, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("invalid timestamp %q: expected RFC 3339, such as \"2024-01-02T15:04:05Z\"", s)
	}
	t.Time = pt.UTC()
	return nil
}

// OwnerReference names the object that owns this one; the garbage collector and controllers
// use it to decide what belongs to whom.
type OwnerReference struct {
	APIVersion         string `json:"apiVersion"`
	Kind               string `json:"kind"`
	Name               string `json:"name"`
	UID                string `json:"uid"`
	Controller         *bool  `json:"controller,omitempty"`
	BlockOwnerDeletion *bool  `json:"blockOwnerDeletion,omitempty"`
}

// ObjectMeta is the metadata every stored object has, with Kubernetes' field names.
type ObjectMeta struct {
	Name                       string            `json:"name,omitempty"`
	GenerateName               string            `json:"generateName,omitempty"`
	Namespace                  string            `json:"namespace,omitempty"`
	UID                        string            `json:"uid,omitempty"`
	ResourceVersion            string            `json:"resourceVersion,omitempty"`
	Generation                 int64             `json:"generation,omitempty"`
	CreationTimestamp          Time              `json:"creationTimestamp,omitempty"`
	DeletionTimestamp          *Time             `json:"deletionTimestamp,omitempty"`
	DeletionGracePeriodSeconds *int64            `json:"deletionGracePeriodSeconds,omitempty"`
	Labels                     map[string]string `json:"labels,omitempty"`
	Annotations                map[string]string `json:"annotations,omitempty"`
	OwnerReferences            []OwnerReference  `json:"ownerReferences,omitempty"`
	Finalizers                 []string          `json:"finalizers,omitempty"`
}

// GetObjectMeta returns the ObjectMeta itself so that every kind satisfies Object.
func (m *ObjectMeta) GetObjectMeta() *ObjectMeta { return m }

// Key returns "namespace/name", or "name" for cluster-scoped objects: the key that work queues
// and caches use.
func (m *ObjectMeta) Key() string {
	if m.Namespace == "" {
		return m.Name
	}
	return m.Namespace + "/" + m.Name
}

// ControllerOf returns the owner reference that is marked as the controller, or nil.
func (m *ObjectMeta) ControllerOf() *OwnerReference {
	for i := range m.OwnerReferences {
		if c := m.OwnerReferences[i].Controller; c != nil && *c {
			return &m.OwnerReferences[i]
		}
	}
	return nil
}

// ListMeta is the metadata of a list: the store revision it was read at.
type ListMeta struct {
	ResourceVersion string `json:"resourceVersion,omitempty"`
	Continue        string `json:"continue,omitempty"`
}

// Object is what every stored kind is: TypeMeta and ObjectMeta reachable through pointers.
type Object interface {
	GetTypeMeta() *TypeMeta
	GetObjectMeta() *ObjectMeta
}

// Status is the error (or success) body of the API, as Kubernetes' metav1.Status, so that
// Kubernetes clients understand our errors.
type Status struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata"`
	Status   string         `json:"status,omitempty"`
	Message  string         `json:"message,omitempty"`
	Reason   string         `json:"reason,omitempty"`
	Details  *StatusDetails `json:"details,omitempty"`
	Code     int32          `json:"code,omitempty"`
}

// StatusDetails tells which object and which fields an error is about.
type StatusDetails struct {
	Name   string        `json:"name,omitempty"`
	Group  string        `json:"group,omitempty"`
	Kind   string        `json:"kind,omitempty"`
	UID    string        `json:"uid,omitempty"`
	Causes []StatusCause `json:"causes,omitempty"`
}

// StatusCause is one reason for an error, usually one bad field.
type StatusCause struct {
	Type    string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	Field   string `json:"field,omitempty"`
}

// Status reasons, as Kubernetes spells them.
const (
	StatusReasonNotFound             = "NotFound"
	StatusReasonAlreadyExists        = "AlreadyExists"
	StatusReasonConflict             = "Conflict"
	StatusReasonInvalid              = "Invalid"
	StatusReasonBadRequest           = "BadRequest"
	StatusReasonUnauthorized         = "Unauthorized"
	StatusReasonForbidden            = "Forbidden"
	StatusReasonGone                 = "Expired"
	StatusReasonMethodNotAllowed     = "MethodNotAllowed"
	StatusReasonInternalError        = "InternalError"
	StatusReasonNotAcceptable        = "NotAcceptable"
	StatusReasonUnsupportedMediaType = "UnsupportedMediaType"
)

// DeleteOptions is the optional body of a DELETE, as in Kubernetes.
type DeleteOptions struct {
	TypeMeta           `json:",inline"`
	GracePeriodSeconds *int64         `json:"gracePeriodSeconds,omitempty"`
	Preconditions      *Preconditions `json:"preconditions,omitempty"`
	PropagationPolicy  *string        `json:"propagationPolicy,omitempty"`
	OrphanDependents   *bool          `json:"orphanDependents,omitempty"`
	DryRun             []string       `json:"dryRun,omitempty"`
}

// Preconditions must hold for a delete to go ahead.
type Preconditions struct {
	UID             *string `json:"uid,omitempty"`
	ResourceVersion *string `json:"resourceVersion,omitempty"`
}

// Watch event types.
const (
	Added    = "ADDED"
	Modified = "MODIFIED"
	Deleted  = "DELETED"
	Bookmark = "BOOKMARK"
	Error    = "ERROR"
)

// WatchEvent is one line of a watch stream. Object is the raw JSON of the object (or of a Status
// for ERROR events).
type WatchEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// DeepCopy returns an independent copy of obj, for changing an object read from a cache.
func DeepCopy[T Object](obj T) T {
	b, err := json.Marshal(obj)
	if err != nil {
		panic(fmt.Sprintf("DeepCopy %T: %v", obj, err))
	}
	out := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("DeepCopy %T: %v", obj, err))
	}
	return out
}

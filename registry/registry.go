// Package registry is the cluster's image registry: an OCI distribution registry (CNCF
// distribution's own HTTP handlers and filesystem storage) that the control plane serves under
// /v2/, how image names map onto its repositories, and how a containerd client pulls from it.
//
// Authentication is the caller's job: the API server wraps the handler with its bearer-token check.
package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/distribution/distribution/v3/registry/storage"
	"github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	"github.com/sirupsen/logrus"
)

// How long an unfinished upload is kept, and how often old ones are looked for.
const (
	uploadMaxAge        = 24 * time.Hour
	uploadPurgeInterval = 6 * time.Hour
)

// NewHandler returns the registry's HTTP handler, serving the OCI distribution API at /v2/...
// (mount it so that it sees the full path, /v2/ included). Blobs, manifests and tags live on
// disk under dir, so a handler made again on the same dir (a restarted server) serves the same
// images. Deleting manifests is allowed; anyone who gets past the caller's auth may push.
//
// Until ctx is cancelled a loop removes uploads left unfinished for a day. The handler is safe
// for concurrent use; one process at a time should serve a dir.
//
// distribution logs through the process's standard logrus logger; NewHandler sends that logger
// to log (its per-request "response completed" lines at debug level) instead of stderr.
func NewHandler(ctx context.Context, dir string, log *slog.Logger) (http.Handler, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	secret, err := httpSecret(dir)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	routeLogrus(log)

	params := configuration.Parameters{"rootdirectory": dir}
	cfg := &configuration.Configuration{
		Storage: configuration.Storage{
			"filesystem": params,
			"delete":     configuration.Parameters{"enabled": true},
			"cache":      configuration.Parameters{"blobdescriptor": "inmemory"},
			"redirect":   configuration.Parameters{"disable": true},
			// Purging runs below, stopped by ctx; distribution's own loop never stops.
			"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
		},
	}
	// The secret signs the state of uploads in progress; kept on disk, an upload survives a
	// restart of the server.
	cfg.HTTP.Secret = secret
	// Upload locations relative to the request, so that they hold whatever host and scheme the
	// client used to reach the API server.
	cfg.HTTP.RelativeURLs = true
	// Catalog pages as large as clients ask for (go-containerregistry asks for 1000).
	cfg.Catalog.MaxEntries = 1000

	app, err := newApp(ctx, cfg)
	if err != nil {
		return nil, err
	}
	driver, err := filesystem.FromParameters(params)
	if err != nil {
		return nil, fmt.Errorf("registry: storage: %w", err)
	}
	go purgeUploads(ctx, driver, log)
	return app, nil
}

// newApp turns distribution's panics on a bad configuration into an error.
func newApp(ctx context.Context, cfg *configuration.Configuration) (app *handlers.App, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("registry: %v", r)
		}
	}()
	return handlers.NewApp(ctx, cfg), nil
}

func purgeUploads(ctx context.Context, driver *filesystem.Driver, log *slog.Logger) {
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		deleted, errs := storage.PurgeUploads(ctx, driver, time.Now().Add(-uploadMaxAge), true)
		if len(deleted) > 0 || len(errs) > 0 {
			log.Info("purged old image uploads", "deleted", len(deleted), "errors", len(errs), "err", errors.Join(errs...))
		}
		t.Reset(uploadPurgeInterval)
	}
}

// httpSecret reads dir/http-secret, making it on first use.
func httpSecret(dir string) (string, error) {
	p := filepath.Join(dir, "http-secret")
	b, err := os.ReadFile(p)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(raw[:])
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(secret+"\n"), 0o600); err != nil {
		return "", err
	}
	return secret, os.Rename(tmp, p)
}

var (
	logrusOnce   sync.Once
	logrusTarget atomic.Pointer[slog.Logger]
)

// routeLogrus sends logrus' standard logger to log: the last handler made wins.
func routeLogrus(log *slog.Logger) {
	logrusTarget.Store(log)
	logrusOnce.Do(func() {
		std := logrus.StandardLogger()
		std.SetOutput(io.Discard)
		std.AddHook(slogHook{})
	})
}

// slogHook hands logrus entries to the slog logger in logrusTarget.
type slogHook struct{}

func (slogHook) Levels() []logrus.Level { return logrus.AllLevels }

func (slogHook) Fire(e *logrus.Entry) error {
	log := logrusTarget.Load()
	if log == nil {
		return nil
	}
	level := slog.LevelInfo
	switch e.Level {
	case logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel:
		level = slog.LevelError
	case logrus.WarnLevel:
		level = slog.LevelWarn
	case logrus.DebugLevel, logrus.TraceLevel:
		level = slog.LevelDebug
	}
	// distribution's loggers carry go.version; its info lines (one per request) are debug here.
	_, fromRegistry := e.Data["go.version"]
	if fromRegistry && level == slog.LevelInfo {
		level = slog.LevelDebug
	}
	// A 4xx answer (a HEAD for a blob not pushed yet, a missing tag) is the client's business,
	// not the server's error: every push starts with a few of them.
	if st, ok := e.Data["http.response.status"].(int); ok && st >= 400 && st < 500 && level == slog.LevelError {
		level = slog.LevelDebug
	}
	ctx := e.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if !log.Enabled(ctx, level) {
		return nil
	}
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		if k != "go.version" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	attrs := make([]any, 0, 2*len(keys)+2)
	if fromRegistry {
		attrs = append(attrs, "component", "registry")
	}
	for _, k := range keys {
		attrs = append(attrs, k, e.Data[k])
	}
	log.Log(ctx, level, e.Message, attrs...)
	return nil
}

package tui

import (
	"context"
	"net/http"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

// Every message about live data carries the generation of the view that asked for it; a
// message from an older view (the user switched kinds meanwhile) is dropped.

type listedMsg struct {
	gen  int
	objs []api.Object
	rv   string
	err  error
}

type watchStartedMsg struct {
	gen int
	ch  <-chan client.Event
	err error
}

type eventMsg struct {
	gen int
	ch  <-chan client.Event // to read the next event from
	ev  client.Event
	ok  bool // false: the channel closed
}

type retryMsg struct{ gen int }

type deletedMsg struct {
	what string
	err  error
}

type textMsg struct {
	gen   int
	title string
	body  string
	err   error
}

func listCmd(ctx context.Context, src Source, gen int, v view) tea.Cmd {
	return func() tea.Msg {
		objs, rv, err := src.List(ctx, v.res, v.ns, v.selector)
		return listedMsg{gen: gen, objs: objs, rv: rv, err: err}
	}
}

func watchCmd(ctx context.Context, src Source, gen int, v view, rv string) tea.Cmd {
	return func() tea.Msg {
		ch, err := src.Watch(ctx, v.res, v.ns, v.selector, rv)
		return watchStartedMsg{gen: gen, ch: ch, err: err}
	}
}

// nextEventCmd reads one event; Update re-arms it after each, so the channel is read by exactly
// one goroutine at a time and Update never blocks.
func nextEventCmd(ctx context.Context, gen int, ch <-chan client.Event) tea.Cmd {
	return func() tea.Msg {
		select {
		case ev, ok := <-ch:
			return eventMsg{gen: gen, ch: ch, ev: ev, ok: ok}
		case <-ctx.Done():
			return eventMsg{gen: gen, ch: ch}
		}
	}
}

func retryCmd(gen int, d time.Duration) tea.Cmd {
	if d <= 0 {
		return func() tea.Msg { return retryMsg{gen: gen} }
	}
	return tea.Tick(d, func(time.Time) tea.Msg { return retryMsg{gen: gen} })
}

// isGone reports whether a watch ERROR event says the revision is too old.
func isGone(st *api.Status) bool {
	return st != nil && (st.Code == http.StatusGone || st.Reason == api.StatusReasonGone)
}

package tui

import (
	"context"
	"errors"
	"net/http"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

// A feed is one list-then-watch of a kind: the table's objects, the nodes of the header, or
// what the table's rows need of other kinds (the Endpoints of Services, the Pods of Nodes). It
// keeps the objects by key and follows the watch; on a lost stream it watches again from its
// revision, and on an error (or a revision too old) it lists afresh, so that what it holds is
// never stale.
type feed struct {
	name string // "table", "nodes", "need/endpoints"
	res  *api.Resource
	ns   string
	opts client.ListOptions // selectors; ResourceVersion is set per watch

	gen    int // changes with every list; messages of an older one are dropped
	ctx    context.Context
	cancel context.CancelFunc

	store  map[string]api.Object
	rv     string
	status string // "connecting", "connected", "reconnecting", "forbidden"
	err    error
}

// change is what one watch event did to a feed's store.
type change struct {
	key      string
	old, new api.Object // old nil: added; new nil: deleted
}

// Every message about live data names its feed and carries the generation of the list that
// asked for it; a message of an older generation (the user switched views meanwhile, or the
// feed listed again) is dropped.

type listedMsg struct {
	feed string
	gen  int
	objs []api.Object
	rv   string
	err  error
}

type watchStartedMsg struct {
	feed string
	gen  int
	ch   <-chan client.Event
	err  error
}

// eventsMsg carries the events that were waiting on a watch: the first one, and whatever
// arrived with it (up to maxEventBatch), so that a burst costs one sort and one frame.
type eventsMsg struct {
	feed   string
	gen    int
	ch     <-chan client.Event // to read the next events from
	evs    []client.Event
	closed bool // the channel closed after evs
}

type retryMsg struct {
	feed string
	gen  int
}

const maxEventBatch = 512

func listCmd(f *feed, src Source) tea.Cmd {
	ctx, name, gen, res, ns, opts := f.ctx, f.name, f.gen, f.res, f.ns, f.opts
	return func() tea.Msg {
		objs, rv, err := src.List(ctx, res, ns, opts)
		return listedMsg{feed: name, gen: gen, objs: objs, rv: rv, err: err}
	}
}

func watchCmd(f *feed, src Source) tea.Cmd {
	ctx, name, gen, res, ns, opts := f.ctx, f.name, f.gen, f.res, f.ns, f.opts
	opts.ResourceVersion = f.rv
	return func() tea.Msg {
		ch, err := src.Watch(ctx, res, ns, opts)
		return watchStartedMsg{feed: name, gen: gen, ch: ch, err: err}
	}
}

// nextEventsCmd reads the next events; Update re-arms it after each batch, so the channel is
// read by exactly one goroutine at a time and Update never blocks.
func nextEventsCmd(f *feed, ch <-chan client.Event) tea.Cmd {
	ctx, name, gen := f.ctx, f.name, f.gen
	return func() tea.Msg {
		msg := eventsMsg{feed: name, gen: gen, ch: ch}
		select {
		case ev, ok := <-ch:
			if !ok {
				msg.closed = true
				return msg
			}
			msg.evs = append(msg.evs, ev)
		case <-ctx.Done():
			msg.closed = true
			return msg
		}
		for len(msg.evs) < maxEventBatch {
			select {
			case ev, ok := <-ch:
				if !ok {
					msg.closed = true
					return msg
				}
				msg.evs = append(msg.evs, ev)
			default:
				return msg
			}
		}
		return msg
	}
}

func retryCmd(name string, gen int, d time.Duration) tea.Cmd {
	if d <= 0 {
		return func() tea.Msg { return retryMsg{feed: name, gen: gen} }
	}
	return tea.Tick(d, func(time.Time) tea.Msg { return retryMsg{feed: name, gen: gen} })
}

// isGone reports whether a watch ERROR event says the revision is too old.
func isGone(st *api.Status) bool {
	return st != nil && (st.Code == http.StatusGone || st.Reason == api.StatusReasonGone)
}

// isForbidden reports whether err is the API's 403: retrying will not help.
func isForbidden(err error) bool {
	var se *client.StatusError
	return errors.As(err, &se) && se.Status.Code == http.StatusForbidden
}

// startFeed (re)starts f: it cancels f's list and watch and lists afresh under a new
// generation.
func (m *Model) startFeed(f *feed) tea.Cmd {
	if f.cancel != nil {
		f.cancel()
	}
	f.ctx, f.cancel = context.WithCancel(m.ctx)
	m.seq++
	f.gen = m.seq
	f.status = "connecting"
	return listCmd(f, m.opts.Source)
}

// stopFeed cancels f's list and watch and forgets it.
func (m *Model) stopFeed(name string) {
	if f := m.feeds[name]; f != nil {
		if f.cancel != nil {
			f.cancel()
		}
		delete(m.feeds, name)
	}
}

// current returns the feed a message is for, or nil when the message is stale.
func (m *Model) current(name string, gen int) *feed {
	if f := m.feeds[name]; f != nil && f.gen == gen && f.ctx.Err() == nil {
		return f
	}
	return nil
}

// feedMsg handles the list, watch and retry messages of every feed.
func (m *Model) feedMsg(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case listedMsg:
		f := m.current(msg.feed, msg.gen)
		if f == nil {
			return nil
		}
		if msg.err != nil {
			return m.reconnect(f, msg.err, m.opts.RetryDelay)
		}
		f.store = make(map[string]api.Object, len(msg.objs))
		for _, o := range msg.objs {
			f.store[objectKey(o)] = o
		}
		f.rv = msg.rv
		f.status, f.err = "connected", nil
		m.feedListed(f)
		return watchCmd(f, m.opts.Source)
	case watchStartedMsg:
		f := m.current(msg.feed, msg.gen)
		if f == nil {
			return nil
		}
		if msg.err != nil {
			return m.reconnect(f, msg.err, m.opts.RetryDelay)
		}
		return nextEventsCmd(f, msg.ch)
	case eventsMsg:
		f := m.current(msg.feed, msg.gen)
		if f == nil {
			return nil
		}
		return m.events(f, msg)
	case retryMsg:
		f := m.current(msg.feed, msg.gen)
		if f == nil {
			return nil
		}
		// A fresh context: the old watch, if any, is closed with it.
		status, err := f.status, f.err
		cmd := m.startFeed(f)
		f.status, f.err = status, err
		return cmd
	}
	return nil
}

// events applies a batch of watch events to f and reads the next batch.
func (m *Model) events(f *feed, msg eventsMsg) tea.Cmd {
	var changes []change
	for _, ev := range msg.evs {
		switch ev.Type {
		case api.Error:
			if len(changes) > 0 {
				m.feedChanged(f, changes)
			}
			if isGone(ev.Status) {
				return m.reconnect(f, errors.New("watch: revision "+f.rv+" is too old"), 0)
			}
			reason := "watch error"
			if ev.Status != nil && ev.Status.Message != "" {
				reason = ev.Status.Message
			}
			return m.reconnect(f, errors.New(reason), m.opts.RetryDelay)
		case api.Added, api.Modified:
			k := objectKey(ev.Object)
			changes = append(changes, change{key: k, old: f.store[k], new: ev.Object})
			f.store[k] = ev.Object
		case api.Deleted:
			k := objectKey(ev.Object)
			old := f.store[k]
			if old == nil {
				old = ev.Object
			}
			changes = append(changes, change{key: k, old: old})
			delete(f.store, k)
		}
		if ev.Object != nil {
			if rv := ev.Object.GetObjectMeta().ResourceVersion; rv != "" {
				f.rv = rv
			}
		}
	}
	if len(changes) > 0 {
		m.feedChanged(f, changes)
	}
	if msg.closed {
		// The server ended the stream (a timeout, or a lost connection): watch again from
		// where we are; if that fails, reconnect lists afresh.
		return watchCmd(f, m.opts.Source)
	}
	return nextEventsCmd(f, msg.ch)
}

// reconnect shows "reconnecting" and lists again after delay. The feed keeps its objects
// until the new list replaces them all. A 403 stops the feed: what it would show stays
// unknown.
func (m *Model) reconnect(f *feed, err error, delay time.Duration) tea.Cmd {
	if isForbidden(err) {
		f.status, f.err = "forbidden", err
		return nil
	}
	f.status, f.err = "reconnecting", err
	return retryCmd(f.name, f.gen, delay)
}

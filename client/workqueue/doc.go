// Package workqueue provides Queue, the rate-limited work queue that every
// minik8s controller and agent uses. It is modelled on client-go's
// util/workqueue but is much smaller: it is a work queue that never runs one
// key twice at once.
//
// A key's life:
//
//	Add ─────────────────────────┐
//	AddAfter / AddRateLimited    │
//	  └─► waiting (delay heap) ──┤ deadline reached
//	                             ▼
//	                   queued (once, FIFO) ◄─────────────┐
//	                             │ Get                   │
//	                             ▼                       │
//	                        processing ── Add ──► dirty  │
//	                             │ Done                  │
//	                             ├── if dirty: requeued ─┘
//	                             ▼
//	                           done  (failure count kept until Forget)
//
// The guarantees, all safe for concurrent use:
//
//   - A key is in the queue at most once: adding a key that is already
//     queued is a no-op (deduplication).
//   - A key handed out by Get is "processing" until Done is called for it;
//     during that time Get never hands it out again, so no key is worked on
//     by two workers at once.
//   - A key Added while it is processing is remembered (it is "dirty") and
//     queued again when Done is called, so no Add is lost.
//   - AddAfter and AddRateLimited hold the key in a delay heap served by a
//     single timer; when the delay expires the key is Added as above.
//     ShutDown drops every delayed key and stops the timer.
//   - After ShutDown, Get returns ("", true) immediately, even if keys are
//     still queued; Add, AddAfter and AddRateLimited are ignored.
//
// Most callers use Run, which runs a fixed number of workers that Get a key,
// call a sync function, Forget the key on success or AddRateLimited it on
// error, and finally call Done.
package workqueue

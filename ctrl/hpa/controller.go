package hpa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/client/cache"
	"github.com/minik8s/minik8s/client/workqueue"
)

// Defaults, as Kubernetes' kube-controller-manager has them.
const (
	// DefaultSyncPeriod is how often every autoscaler is looked at
	// (--horizontal-pod-autoscaler-sync-period).
	DefaultSyncPeriod = 15 * time.Second
	// DefaultTolerance is the relative distance from the target within which nothing is
	// scaled (--horizontal-pod-autoscaler-tolerance).
	DefaultTolerance = 0.1
	// DefaultCPUInitializationPeriod is how long after its start a Pod's CPU samples are
	// distrusted unless it is Ready and has been for a whole sample window.
	DefaultCPUInitializationPeriod = 5 * time.Minute
	// DefaultInitialReadinessDelay is how soon after its start a Pod that turned not Ready is
	// taken for one that never was Ready.
	DefaultInitialReadinessDelay = 30 * time.Second
)

// MetricsSource gives the latest usage of the Pods of namespace ns that match a label
// selector (in the ?labelSelector= form). *client.Client is one: it reads the API server's
// metrics.k8s.io endpoint.
type MetricsSource interface {
	PodMetrics(ctx context.Context, ns, selector string) (*api.PodMetricsList, error)
}

var _ MetricsSource = (*client.Client)(nil)

// Options configure a Controller. Start from DefaultOptions: a zero duration means its
// default, but a zero Tolerance is a tolerance of zero.
type Options struct {
	// SyncPeriod is how often each autoscaler is synced; a new or changed one is synced at
	// once.
	SyncPeriod time.Duration
	// Tolerance is the relative distance from the target within which nothing is scaled.
	Tolerance float64
	// CPUInitializationPeriod and InitialReadinessDelay decide which Pods' CPU samples count
	// (see DefaultCPUInitializationPeriod and DefaultInitialReadinessDelay).
	CPUInitializationPeriod time.Duration
	InitialReadinessDelay   time.Duration
	// Metrics is where usage is read; nil means the client the controller is given.
	Metrics MetricsSource
	// Now is the clock of the scaling decisions (windows, periods, Pod start-up), a seam for
	// tests; nil means time.Now. The sync period runs on the real clock.
	Now func() time.Time
}

// DefaultOptions returns Kubernetes' defaults.
func DefaultOptions() Options {
	return Options{
		SyncPeriod:              DefaultSyncPeriod,
		Tolerance:               DefaultTolerance,
		CPUInitializationPeriod: DefaultCPUInitializationPeriod,
		InitialReadinessDelay:   DefaultInitialReadinessDelay,
	}
}

// Controller scales the ReplicaSets that HorizontalPodAutoscalers point at (see the package
// doc). Its decisions depend on the API objects, the metrics and what it remembers in memory
// of its last decisions (the stabilization windows and rate policies), as Kubernetes'
// does; a restarted controller starts its windows afresh. Its writes of the target's
// replicas are conditional on the resourceVersion it read.
type Controller struct {
	client  *client.Client
	metrics MetricsSource
	log     *slog.Logger
	opts    Options
	now     func() time.Time
	hpas    *cache.Informer
	pods    *cache.Informer
	queue   *workqueue.Queue
	events  *recorder

	mu      sync.Mutex
	history map[string]*uidHistory // by autoscaler key
}

type uidHistory struct {
	uid string
	history
}

// New returns an autoscaler controller that works through c and logs to log. Call Run to
// start it.
func New(c *client.Client, opts Options, log *slog.Logger) *Controller {
	if log == nil {
		log = slog.Default()
	}
	def := DefaultOptions()
	if opts.SyncPeriod <= 0 {
		opts.SyncPeriod = def.SyncPeriod
	}
	if opts.Tolerance < 0 {
		opts.Tolerance = 0
	}
	if opts.CPUInitializationPeriod <= 0 {
		opts.CPUInitializationPeriod = def.CPUInitializationPeriod
	}
	if opts.InitialReadinessDelay <= 0 {
		opts.InitialReadinessDelay = def.InitialReadinessDelay
	}
	if opts.Metrics == nil {
		opts.Metrics = c
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ctl := &Controller{
		client:  c,
		metrics: opts.Metrics,
		log:     log,
		opts:    opts,
		now:     opts.Now,
		hpas:    cache.New(c.HorizontalPodAutoscalers("").Dynamic(), client.ListOptions{}, log),
		pods:    cache.New(c.Pods("").Dynamic(), client.ListOptions{}, log),
		history: map[string]*uidHistory{},
	}
	ctl.events = newRecorder(c, log, opts.Now)
	ctl.queue = workqueue.New(workqueue.WithName("hpa"), workqueue.WithBackoff(time.Second, opts.SyncPeriod),
		workqueue.WithErrorHandler(func(key string, err error) {
			ctl.log.Warn("hpa controller: sync failed", "key", key, "err", err)
		}))
	add := func(o api.Object) { ctl.queue.Add(o.GetObjectMeta().Key()) }
	ctl.hpas.AddHandler(cache.Handler{
		OnAdd: add,
		// The controller's own status writes change neither the generation nor the UID:
		// they wait for the next period.
		OnUpdate: func(old, cur api.Object) {
			o, n := old.GetObjectMeta(), cur.GetObjectMeta()
			if o.Generation != n.Generation || o.UID != n.UID {
				add(cur)
			}
		},
		OnDelete: add,
	})
	return ctl
}

// Run syncs the autoscalers with the given number of workers until ctx ends. Call it once.
func (c *Controller) Run(ctx context.Context, workers int) {
	cache.RunAll(ctx, []*cache.Informer{c.hpas, c.pods}, func() {
		c.log.Info("hpa controller: started", "workers", workers, "syncPeriod", c.opts.SyncPeriod, "tolerance", c.opts.Tolerance)
		c.queue.Run(ctx, workers, c.sync)
	})
	c.queue.ShutDown()
}

// sync looks at the autoscaler named key once and schedules the next look one period later.
func (c *Controller) sync(ctx context.Context, key string) error {
	obj, ok := c.hpas.Get(key)
	if !ok {
		c.mu.Lock()
		delete(c.history, key)
		c.mu.Unlock()
		c.events.forget(key)
		return nil
	}
	defer c.queue.AddAfter(key, c.opts.SyncPeriod)
	return c.reconcile(ctx, key, api.DeepCopy(obj.(*api.HorizontalPodAutoscaler)))
}

// withHistory runs f with what is remembered of the autoscaler key (with UID uid), under the
// lock.
func (c *Controller) withHistory(key, uid string, f func(h *history)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.history[key]
	if h == nil || h.uid != uid {
		h = &uidHistory{uid: uid}
		c.history[key] = h
	}
	f(&h.history)
}

// reconcile is Kubernetes' reconcileAutoscaler: read the target's replicas, compute the
// replicas the metrics ask for, stabilize and rate-limit them, write the target's replicas
// when they change, and write the status. hpa is a copy the caller owns.
func (c *Controller) reconcile(ctx context.Context, key string, hpa *api.HorizontalPodAutoscaler) error {
	now := c.now()
	at := api.NewTime(now)
	orig := hpa.Status
	orig.Conditions = slices.Clone(orig.Conditions)
	setCond := func(typ, status, reason, format string, args ...any) {
		hpa.Status.Conditions = setCondition(hpa.Status.Conditions, typ, status, reason, fmt.Sprintf(format, args...), at)
	}
	ref := hpa.Spec.ScaleTargetRef

	if ref.Kind != "ReplicaSet" || (ref.APIVersion != "" && ref.APIVersion != api.GroupApps+"/v1") {
		gv := ref.APIVersion
		if gv == "" {
			gv = "no apiVersion"
		}
		err := fmt.Errorf("%s %q (%s) cannot be scaled: the autoscaler scales ReplicaSets (apps/v1) only", ref.Kind, ref.Name, gv)
		c.events.event(ctx, hpa, api.EventTypeWarning, reasonFailedGetScale, err.Error())
		setCond(api.HPAAbleToScale, api.ConditionFalse, reasonFailedGetScale, "the HPA controller was unable to get the target's current scale: %v", err)
		setCond(api.HPAScalingActive, api.ConditionFalse, reasonUnsupportedTarget, "the HPA controller cannot scale the target: %v", err)
		return c.writeStatus(ctx, hpa, &orig)
	}

	rs, err := c.client.ReplicaSets(hpa.Namespace).Get(ctx, ref.Name)
	if err != nil {
		c.events.event(ctx, hpa, api.EventTypeWarning, reasonFailedGetScale, err.Error())
		setCond(api.HPAAbleToScale, api.ConditionFalse, reasonFailedGetScale, "the HPA controller was unable to get the target's current scale: %v", err)
		werr := c.writeStatus(ctx, hpa, &orig)
		if client.IsNotFound(err) {
			return werr // a target that comes later is found at the next period
		}
		return errors.Join(fmt.Errorf("get scale target ReplicaSet %s/%s of %s: %w", hpa.Namespace, ref.Name, key, err), werr)
	}
	setCond(api.HPAAbleToScale, api.ConditionTrue, reasonSucceededGetScale, "the HPA controller was able to get the target's current scale")
	current := int32(1)
	if rs.Spec.Replicas != nil {
		current = *rs.Spec.Replicas
	}
	c.withHistory(key, hpa.UID, func(h *history) { h.recordInitial(current, now) })
	minR := int32(1)
	if hpa.Spec.MinReplicas != nil {
		minR = *hpa.Spec.MinReplicas
	}
	behavior := behaviorOf(hpa)

	var statuses []api.MetricStatus
	var desired int32
	var reason string
	rescale := true
	switch {
	case current == 0 && minR != 0:
		desired, rescale = 0, false
		setCond(api.HPAScalingActive, api.ConditionFalse, reasonScalingDisabled, "scaling is disabled since the replica count of the target is zero")
	case current > hpa.Spec.MaxReplicas:
		reason, desired = "Current number of replicas above Spec.MaxReplicas", hpa.Spec.MaxReplicas
		setCond(api.HPAScalingLimited, api.ConditionTrue, reasonTooManyReplicas, msgTooMany)
	case current < minR:
		reason, desired = "Current number of replicas below Spec.MinReplicas", minR
		setCond(api.HPAScalingLimited, api.ConditionTrue, reasonTooFewReplicas, msgTooFew)
	default:
		proposal, metric, st, err := c.computeReplicasForMetrics(ctx, hpa, rs, current, now, setCond)
		statuses = st
		if err != nil && proposal < 0 {
			hpa.Status.CurrentReplicas = current
			hpa.Status.CurrentMetrics = statuses
			hpa.Status.ObservedGeneration = &hpa.Generation
			c.events.event(ctx, hpa, api.EventTypeWarning, reasonFailedComputeMetricsReplicas, err.Error())
			c.log.Debug("hpa controller: no replica count", "key", key, "err", err)
			return c.writeStatus(ctx, hpa, &orig)
		}
		if err != nil {
			// Some metrics failed and the others ask for more: scale on those, as Kubernetes does.
			c.log.Debug("hpa controller: scaling on the metrics that work", "key", key, "err", err)
		}
		desired = proposal
		switch {
		case desired > current:
			reason = metric + " above target"
		case desired < current:
			reason = "All metrics below target"
		}
		var n normalized
		c.withHistory(key, hpa.UID, func(h *history) {
			n = h.normalize(limits{current: current, desired: desired, min: minR, max: hpa.Spec.MaxReplicas,
				up: behavior.ScaleUp, down: behavior.ScaleDown}, now)
		})
		setCond(api.HPAAbleToScale, api.ConditionTrue, n.ableReason, "%s", n.ableMessage)
		setCond(api.HPAScalingLimited, boolStatus(n.limited), n.limitedReason, "%s", n.limitedMessage)
		desired = n.replicas
		rescale = desired != current
	}

	if rescale {
		if err := c.scale(ctx, rs, desired); err != nil {
			c.events.event(ctx, hpa, api.EventTypeWarning, reasonFailedRescale, fmt.Sprintf("New size: %d; reason: %s; error: %v", desired, reason, err))
			setCond(api.HPAAbleToScale, api.ConditionFalse, reasonFailedUpdateScale, "the HPA controller was unable to update the target scale: %v", err)
			hpa.Status.CurrentReplicas = current
			hpa.Status.CurrentMetrics = statuses
			hpa.Status.ObservedGeneration = &hpa.Generation
			return errors.Join(fmt.Errorf("rescale ReplicaSet %s/%s of %s to %d: %w", rs.Namespace, rs.Name, key, desired, err),
				c.writeStatus(ctx, hpa, &orig))
		}
		setCond(api.HPAAbleToScale, api.ConditionTrue, reasonSucceededRescale, "the HPA controller was able to update the target scale to %d", desired)
		c.events.event(ctx, hpa, api.EventTypeNormal, reasonSuccessfulRescale, fmt.Sprintf("New size: %d; reason: %s", desired, reason))
		c.withHistory(key, hpa.UID, func(h *history) { h.recordScale(behavior, current, desired, now) })
		c.log.Info("hpa controller: rescaled", "key", key, "replicaset", rs.Name, "from", current, "to", desired, "reason", reason)
	} else {
		desired = current
	}

	hpa.Status.CurrentReplicas = current
	hpa.Status.DesiredReplicas = desired
	hpa.Status.CurrentMetrics = statuses
	hpa.Status.ObservedGeneration = &hpa.Generation
	if rescale {
		hpa.Status.LastScaleTime = &at
	}
	return c.writeStatus(ctx, hpa, &orig)
}

// computeReplicasForMetrics is Kubernetes' function of that name: the largest replica count
// any metric asks for, the metric that asks for it, and each metric's current value. When
// every metric fails, or some fail and the others would scale down, it returns -1 and an
// error, and ScalingActive tells the first failure; when some fail and the others ask for
// more, it returns their count with an error.
func (c *Controller) computeReplicasForMetrics(ctx context.Context, hpa *api.HorizontalPodAutoscaler, rs *api.ReplicaSet, current int32,
	now time.Time, setCond func(typ, status, reason, format string, args ...any)) (int32, string, []api.MetricStatus, error) {
	sel, err := api.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil || rs.Spec.Selector == nil || sel.Empty() {
		msg := "the HPA target's scale is missing a selector"
		if err != nil {
			msg = fmt.Sprintf("the HPA target's selector is invalid: %v", err)
		}
		c.events.event(ctx, hpa, api.EventTypeWarning, reasonInvalidSelector, msg)
		setCond(api.HPAScalingActive, api.ConditionFalse, reasonInvalidSelector, "%s", msg)
		return -1, "", nil, errors.New(msg)
	}
	if others := c.sharingTarget(hpa); len(others) > 0 {
		msg := fmt.Sprintf("pods by selector %s are controlled by multiple HPAs: %v", sel, append([]string{hpa.Key()}, others...))
		c.events.event(ctx, hpa, api.EventTypeWarning, reasonAmbiguousSelector, msg)
		setCond(api.HPAScalingActive, api.ConditionFalse, reasonAmbiguousSelector, "%s", msg)
		return -1, "", nil, errors.New(msg)
	}

	var pods []*api.Pod
	for _, o := range c.pods.List() {
		if p := o.(*api.Pod); p.Namespace == hpa.Namespace && sel.Matches(p.Labels) {
			pods = append(pods, p)
		}
	}
	list, metricsErr := c.metrics.PodMetrics(ctx, hpa.Namespace, sel.String())
	calc := calculator{
		tolerance:                     c.opts.Tolerance,
		cpuInitializationPeriod:       c.opts.CPUInitializationPeriod,
		delayOfInitialReadinessStatus: c.opts.InitialReadinessDelay,
		now:                           now,
	}

	specs := metricSpecs(hpa)
	props := make([]proposal, len(specs))
	for i, spec := range specs {
		props[i] = computeReplicasForMetric(calc, spec, current, pods, list, metricsErr)
		if p := props[i]; p.err != nil {
			c.events.event(ctx, hpa, api.EventTypeWarning, p.reason, p.err.Error())
		}
	}
	replicas, metric, statuses, failed, err := combineProposals(props, current)
	if replicas < 0 {
		setCond(failed.typ, failed.status, failed.reason, "%s", failed.message)
		return -1, "", statuses, err
	}
	setCond(api.HPAScalingActive, api.ConditionTrue, reasonValidMetricFound, "the HPA was able to successfully calculate a replica count from %s", metric)
	return replicas, metric, statuses, err
}

// proposal is what one metric asks for: a replica count, the metric's name for the rescale
// reason and its current value; or an error with the reason of the ScalingActive condition.
type proposal struct {
	replicas int32
	metric   string
	status   api.MetricStatus
	reason   string
	err      error
}

// combineProposals is the decision of Kubernetes' computeReplicasForMetrics: the largest
// proposal wins. When every metric failed, or some failed and the others would scale down
// (the failed ones might have asked for more), it returns -1, the condition of the first
// failure and an error; when some failed and the others ask for more, their count and an
// error. statuses are the current values of the metrics that worked.
func combineProposals(props []proposal, current int32) (int32, string, []api.MetricStatus, *condition, error) {
	var statuses []api.MetricStatus
	var replicas int32
	var metric string
	invalid := 0
	var firstErr error
	var failed *condition
	for _, p := range props {
		if p.err != nil {
			if invalid == 0 {
				firstErr = p.err
				failed = &condition{api.HPAScalingActive, api.ConditionFalse, p.reason, fmt.Sprintf("the HPA was unable to compute the replica count: %v", p.err)}
			}
			invalid++
			continue
		}
		statuses = append(statuses, p.status)
		if replicas == 0 || p.replicas > replicas {
			replicas, metric = p.replicas, p.metric
		}
	}
	if firstErr != nil {
		firstErr = fmt.Errorf("invalid metrics (%d invalid out of %d), first error is: %w", invalid, len(props), firstErr)
	}
	if invalid >= len(props) || (invalid > 0 && replicas < current) {
		if failed == nil {
			failed = &condition{api.HPAScalingActive, api.ConditionFalse, reasonInvalidMetricSourceType, "the HPA was unable to compute the replica count: no metrics"}
			firstErr = errors.New("no metrics to scale on")
		}
		return -1, "", statuses, failed, firstErr
	}
	return replicas, metric, statuses, nil, firstErr
}

// metricSpecs returns hpa's metrics, or the default (cpu at 80 %) when it has none.
func metricSpecs(hpa *api.HorizontalPodAutoscaler) []api.MetricSpec {
	if len(hpa.Spec.Metrics) > 0 {
		return hpa.Spec.Metrics
	}
	u := int32(80)
	return []api.MetricSpec{{Type: api.MetricSourceResource, Resource: &api.ResourceMetricSource{
		Name: api.ResourceCPU, Target: api.MetricTarget{Type: api.MetricTargetUtilization, AverageUtilization: &u}}}}
}

// computeReplicasForMetric computes one metric's proposal.
func computeReplicasForMetric(calc calculator, spec api.MetricSpec, current int32, pods []*api.Pod, list *api.PodMetricsList, metricsErr error) proposal {
	fail := func(reason string, err error) proposal { return proposal{reason: reason, err: err} }
	if spec.Type != api.MetricSourceResource || spec.Resource == nil {
		return fail(reasonInvalidMetricSourceType, fmt.Errorf("unknown metric source type %q", spec.Type))
	}
	res := spec.Resource.Name
	if metricsErr != nil {
		return fail(reasonFailedGetResourceMetric, fmt.Errorf("unable to get metrics for resource %s: %w", res, metricsErr))
	}
	metrics := resourceMetrics(list, res)
	status := api.MetricStatus{Type: api.MetricSourceResource, Resource: &api.ResourceMetricStatus{Name: res}}
	t := spec.Resource.Target
	switch {
	case t.Type == api.MetricTargetAverageValue && t.AverageValue != nil:
		n, avg, err := calc.averageValueReplicas(current, t.AverageValue.MilliValue(), res, pods, metrics)
		if err != nil {
			return fail(reasonFailedGetResourceMetric, fmt.Errorf("failed to get %s usage: %w", res, err))
		}
		q := usageQuantity(res, avg)
		status.Resource.Current.AverageValue = &q
		return proposal{replicas: n, metric: res + " resource", status: status}
	case t.Type == api.MetricTargetUtilization && t.AverageUtilization != nil:
		n, util, raw, err := calc.utilizationReplicas(current, *t.AverageUtilization, res, pods, metrics)
		if err != nil {
			return fail(reasonFailedGetResourceMetric, fmt.Errorf("failed to get %s utilization: %w", res, err))
		}
		q := usageQuantity(res, raw)
		status.Resource.Current.AverageValue = &q
		status.Resource.Current.AverageUtilization = &util
		return proposal{replicas: n, metric: res + " resource utilization (percentage of request)", status: status}
	}
	return fail(reasonFailedGetResourceMetric, errors.New("invalid resource metric source: neither a utilization target nor a value target was set"))
}

// usageQuantity writes an average usage in thousandths as a quantity: millicores for cpu,
// and for memory whole bytes with a binary suffix where exact ("40Mi").
func usageQuantity(resource string, milli int64) api.Quantity {
	if resource == api.ResourceMemory && milli%1000 == 0 {
		return api.NewQuantity(milli/1000, true)
	}
	return api.NewMilliQuantity(milli)
}

// sharingTarget returns the keys of the other autoscalers of hpa's namespace that scale the
// same object: two autoscalers fighting over one ReplicaSet would undo each other's work, so
// Kubernetes disables both.
func (c *Controller) sharingTarget(hpa *api.HorizontalPodAutoscaler) []string {
	var out []string
	for _, o := range c.hpas.List() {
		h := o.(*api.HorizontalPodAutoscaler)
		if h.Namespace == hpa.Namespace && h.Name != hpa.Name &&
			h.Spec.ScaleTargetRef.Kind == hpa.Spec.ScaleTargetRef.Kind && h.Spec.ScaleTargetRef.Name == hpa.Spec.ScaleTargetRef.Name {
			out = append(out, h.Key())
		}
	}
	return out
}

// scale sets rs's spec.replicas with a merge patch pinned to the resourceVersion read, so a
// change made meanwhile (a user's scale, another writer) is not overwritten: it conflicts and
// the sync is retried on the new object.
func (c *Controller) scale(ctx context.Context, rs *api.ReplicaSet, replicas int32) error {
	patch := fmt.Appendf(nil, `{"metadata":{"resourceVersion":%q},"spec":{"replicas":%d}}`, rs.ResourceVersion, replicas)
	_, err := c.client.ReplicaSets(rs.Namespace).Patch(ctx, rs.Name, patch)
	return err
}

// writeStatus stores hpa's status if it differs from orig. The status is the controller's
// alone, so a conflict (the spec or metadata changed meanwhile) is resolved by writing the
// same status onto the newer object.
func (c *Controller) writeStatus(ctx context.Context, hpa *api.HorizontalPodAutoscaler, orig *api.HorizontalPodAutoscalerStatus) error {
	a, _ := json.Marshal(orig)
	b, _ := json.Marshal(&hpa.Status)
	if string(a) == string(b) {
		return nil
	}
	hpas := c.client.HorizontalPodAutoscalers(hpa.Namespace)
	_, err := hpas.UpdateStatus(ctx, hpa)
	if client.IsConflict(err) {
		var fresh *api.HorizontalPodAutoscaler
		fresh, err = hpas.Get(ctx, hpa.Name)
		if err == nil {
			if fresh.UID != hpa.UID {
				return nil
			}
			fresh.Status = hpa.Status
			_, err = hpas.UpdateStatus(ctx, fresh)
		}
	}
	if err == nil || client.IsNotFound(err) {
		return nil
	}
	return fmt.Errorf("write status of autoscaler %s: %w", hpa.Key(), err)
}

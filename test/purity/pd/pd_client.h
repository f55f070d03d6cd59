/*
 * Poisoned for the purity check (build.zig "planner purity"): the planner,
 * the builders and the API types are pure functions of the observed world
 * and must not reach pd/pd_client.h, directly or through another header. If this
 * fires, include the pure half instead (pd/pd_snapshot_data.h,
 * watchers/kube_resource.h, reactor/http_error.h) or move the code to
 * reconcilers/runtime.
 */
#error "pure code includes pd/pd_client.h (see test/purity)"

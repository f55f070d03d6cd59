/*
 * fair_queue: shares a budget of work in flight fairly among flows.
 *
 * A flow (for the executor: one run, that is one cluster's plan) queues
 * items in order. fair_queue_next hands out the next item to start while
 * fewer than `limit` are in flight, taking the flows round-robin: one round
 * gives one item of every flow that has items queued, in ring order, and a
 * flow that starts queuing joins the ring at its end. So the first item of a
 * new flow waits behind at most one item of each flow already queued, however
 * long their backlogs are (and a flow alone gets the whole budget).
 *
 * The queue knows how many items are in flight, not which: the caller tells
 * it with fair_queue_finished when a started item is done. Items within a
 * flow keep their order.
 *
 * Ownership: the queue, flows and items are embedded in the caller's objects
 * (reactor/list.h links them) and nothing here allocates or frees. A flow or
 * item must not be freed while it is queued: drop its items first
 * (fair_queue_drop_flow). Pure bookkeeping: no I/O, no loop.
 */
#ifndef RECONCILERS_FAIR_QUEUE_H
#define RECONCILERS_FAIR_QUEUE_H

#include "reactor/list.h"

#include <stdbool.h>
#include <stddef.h>

struct fair_queue_item {
    struct list_node link;     /* in its flow's items while queued */
};

struct fair_queue_flow {
    struct list_node link;     /* in the queue's ring while it has items queued */
    struct list_node items;
    size_t queued;
};

struct fair_queue {
    struct list_node flows;    /* the ring: its head is the next flow to give an item */
    size_t limit;              /* items in flight at most (at least 1) */
    size_t in_flight;
    size_t queued;
};

/* An empty queue allowing `limit` items in flight (0 counts as 1). */
void fair_queue_init(struct fair_queue *queue, size_t limit);
void fair_queue_flow_init(struct fair_queue_flow *flow);

/* Queues `item` (in no queue) at the end of `flow`; the flow joins the end
 * of the ring when it had nothing queued. */
void fair_queue_push(struct fair_queue *queue, struct fair_queue_flow *flow, struct fair_queue_item *item);

/* True when an item is queued and fewer than `limit` are in flight. */
bool fair_queue_can_start(const struct fair_queue *queue);

/* The next item to start, now counted in flight, or NULL when nothing is
 * queued or `limit` items are in flight. Its flow moves to the ring's end. */
struct fair_queue_item *fair_queue_next(struct fair_queue *queue);

/* One item handed out by fair_queue_next is done. */
void fair_queue_finished(struct fair_queue *queue);

/* Unqueues the first queued item of `flow` without starting it (not counted
 * in flight); NULL when the flow has nothing queued. */
struct fair_queue_item *fair_queue_drop_flow(struct fair_queue *queue, struct fair_queue_flow *flow);

/* Unqueues some queued item, of whichever flow, without starting it; NULL
 * when nothing is queued. For emptying the whole queue. */
struct fair_queue_item *fair_queue_drop(struct fair_queue *queue);

static inline size_t fair_queue_in_flight(const struct fair_queue *queue) { return queue->in_flight; }
static inline size_t fair_queue_queued(const struct fair_queue *queue) { return queue->queued; }
static inline size_t fair_queue_flow_queued(const struct fair_queue_flow *flow) { return flow->queued; }

#endif

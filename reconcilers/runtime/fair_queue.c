#include "reconcilers/runtime/fair_queue.h"

void fair_queue_init(struct fair_queue *queue, size_t limit)
{
    list_init(&queue->flows);
    queue->limit = limit ? limit : 1;
    queue->in_flight = 0;
    queue->queued = 0;
}

void fair_queue_flow_init(struct fair_queue_flow *flow)
{
    list_init(&flow->link);
    list_init(&flow->items);
    flow->queued = 0;
}

void fair_queue_push(struct fair_queue *queue, struct fair_queue_flow *flow, struct fair_queue_item *item)
{
    list_insert_tail(&flow->items, &item->link);
    if (flow->queued++ == 0) list_insert_tail(&queue->flows, &flow->link);
    queue->queued++;
}

bool fair_queue_can_start(const struct fair_queue *queue)
{
    return queue->queued > 0 && queue->in_flight < queue->limit;
}

/* Takes the first item of `flow` (which has one); the flow leaves the ring
 * when that was its last. */
static struct fair_queue_item *take_first(struct fair_queue *queue, struct fair_queue_flow *flow)
{
    struct fair_queue_item *item = list_first_entry(&flow->items, struct fair_queue_item, link);
    list_remove(&item->link);
    queue->queued--;
    if (--flow->queued == 0) list_remove(&flow->link);
    return item;
}

struct fair_queue_item *fair_queue_next(struct fair_queue *queue)
{
    if (!fair_queue_can_start(queue)) return NULL;
    struct fair_queue_flow *flow = list_first_entry(&queue->flows, struct fair_queue_flow, link);
    struct fair_queue_item *item = take_first(queue, flow);
    if (flow->queued > 0) {
        /* Its turn in this round is used: to the end of the ring. */
        list_remove(&flow->link);
        list_insert_tail(&queue->flows, &flow->link);
    }
    queue->in_flight++;
    return item;
}

void fair_queue_finished(struct fair_queue *queue)
{
    if (queue->in_flight > 0) queue->in_flight--;
}

struct fair_queue_item *fair_queue_drop_flow(struct fair_queue *queue, struct fair_queue_flow *flow)
{
    return flow->queued > 0 ? take_first(queue, flow) : NULL;
}

struct fair_queue_item *fair_queue_drop(struct fair_queue *queue)
{
    struct fair_queue_flow *flow = list_first_entry(&queue->flows, struct fair_queue_flow, link);
    return flow ? take_first(queue, flow) : NULL;
}

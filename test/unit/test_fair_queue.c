/* The fair queue on its own: round-robin across flows, the in-flight limit,
 * order within a flow, dropping. Items carry a flow letter and a number so
 * a test can read the start order as a string. */
#include "reconcilers/runtime/fair_queue.h"
#include "test/support/test.h"

#include <stdio.h>
#include <string.h>

struct entry {
    struct fair_queue_item item;
    char flow;
    int number;
};

/* Pushes `count` entries of flow `name` from `entries`. */
static void push_many(struct fair_queue *queue, struct fair_queue_flow *flow, struct entry *entries,
                      int count, char name)
{
    for (int i = 0; i < count; i++) {
        entries[i] = (struct entry){ .flow = name, .number = i };
        fair_queue_push(queue, flow, &entries[i].item);
    }
}

/* Starts items and finishes each at once, `count` times (or until none is
 * left), writing their flow letters to `order`. */
static void start_and_finish(struct fair_queue *queue, int count, char *order, size_t size)
{
    size_t length = strlen(order);
    for (int i = 0; i < count; i++) {
        struct fair_queue_item *item = fair_queue_next(queue);
        if (!item) break;
        if (length + 1 < size) {
            order[length++] = list_entry(item, struct entry, item)->flow;
            order[length] = '\0';
        }
        fair_queue_finished(queue);
    }
}

static void fair_queue_takes_flows_round_robin(void)
{
    struct fair_queue queue;
    fair_queue_init(&queue, 4);
    struct fair_queue_flow a, b, c;
    fair_queue_flow_init(&a);
    fair_queue_flow_init(&b);
    fair_queue_flow_init(&c);
    struct entry as[5], bs[2], cs[1];
    push_many(&queue, &a, as, 5, 'a');
    push_many(&queue, &b, bs, 2, 'b');
    push_many(&queue, &c, cs, 1, 'c');
    CHECK_INT(fair_queue_queued(&queue), 8);
    char order[32] = "";
    start_and_finish(&queue, 100, order, sizeof order);
    CHECK_STR(order, "abcabaaa");
    CHECK_INT(fair_queue_queued(&queue), 0);
    CHECK_INT(fair_queue_in_flight(&queue), 0);
    CHECK(fair_queue_next(&queue) == NULL);
}

static void fair_queue_keeps_the_order_within_a_flow(void)
{
    struct fair_queue queue;
    fair_queue_init(&queue, 1);
    struct fair_queue_flow a, b;
    fair_queue_flow_init(&a);
    fair_queue_flow_init(&b);
    struct entry as[4], bs[4];
    push_many(&queue, &a, as, 4, 'a');
    push_many(&queue, &b, bs, 4, 'b');
    int next_a = 0, next_b = 0;
    for (int i = 0; i < 8; i++) {
        struct fair_queue_item *item = fair_queue_next(&queue);
        REQUIRE(item != NULL);
        struct entry *entry = list_entry(item, struct entry, item);
        CHECK_INT(entry->number, entry->flow == 'a' ? next_a++ : next_b++);
        fair_queue_finished(&queue);
    }
    CHECK_INT(next_a, 4);
    CHECK_INT(next_b, 4);
}

/* However long the backlogs, a flow that starts queuing waits at most one
 * item of each flow already queued. */
static void fair_queue_new_flow_waits_at_most_one_round(void)
{
    struct fair_queue queue;
    fair_queue_init(&queue, 8);
    struct fair_queue_flow big, other, late;
    fair_queue_flow_init(&big);
    fair_queue_flow_init(&other);
    fair_queue_flow_init(&late);
    static struct entry bigs[1000], others[100];
    struct entry lates[1];
    push_many(&queue, &big, bigs, 1000, 'x');
    push_many(&queue, &other, others, 100, 'y');
    char order[64] = "";
    start_and_finish(&queue, 37, order, sizeof order);
    push_many(&queue, &late, lates, 1, 'z');
    char after[8] = "";
    start_and_finish(&queue, 3, after, sizeof after);
    /* Two flows were queued: their two turns, then the late one. */
    CHECK(strchr(after, 'z') != NULL);
    CHECK(strchr(after, 'z') - after <= 2);
}

static void fair_queue_never_exceeds_the_limit(void)
{
    struct fair_queue queue;
    fair_queue_init(&queue, 3);
    struct fair_queue_flow a, b;
    fair_queue_flow_init(&a);
    fair_queue_flow_init(&b);
    struct entry as[10], bs[10];
    push_many(&queue, &a, as, 10, 'a');
    push_many(&queue, &b, bs, 10, 'b');
    int started = 0;
    while (fair_queue_next(&queue)) started++;
    CHECK_INT(started, 3);
    CHECK_INT(fair_queue_in_flight(&queue), 3);
    CHECK(!fair_queue_can_start(&queue));
    CHECK(fair_queue_next(&queue) == NULL);
    fair_queue_finished(&queue);
    CHECK(fair_queue_can_start(&queue));
    CHECK(fair_queue_next(&queue) != NULL);
    CHECK(fair_queue_next(&queue) == NULL);
    CHECK_INT(fair_queue_in_flight(&queue), 3);
    CHECK_INT(fair_queue_queued(&queue), 16);
    /* A zero limit still lets one through. */
    struct fair_queue single;
    fair_queue_init(&single, 0);
    struct fair_queue_flow c;
    fair_queue_flow_init(&c);
    struct entry cs[2];
    push_many(&single, &c, cs, 2, 'c');
    CHECK(fair_queue_next(&single) != NULL);
    CHECK(fair_queue_next(&single) == NULL);
}

/* A flow that emptied and queues again joins at the end of the ring, behind
 * the flows that kept queuing. */
static void fair_queue_flow_that_returns_joins_at_the_end(void)
{
    struct fair_queue queue;
    fair_queue_init(&queue, 10);
    struct fair_queue_flow a, b, c;
    fair_queue_flow_init(&a);
    fair_queue_flow_init(&b);
    fair_queue_flow_init(&c);
    struct entry as[2], bs[3], cs[3];
    push_many(&queue, &a, as, 1, 'a');
    push_many(&queue, &b, bs, 3, 'b');
    push_many(&queue, &c, cs, 3, 'c');
    char order[32] = "";
    start_and_finish(&queue, 2, order, sizeof order); /* a, b: a's flow is empty */
    push_many(&queue, &a, as + 1, 1, 'a');
    start_and_finish(&queue, 100, order, sizeof order);
    CHECK_STR(order, "abcbacbc");
}

static void fair_queue_drops_without_counting_in_flight(void)
{
    struct fair_queue queue;
    fair_queue_init(&queue, 2);
    struct fair_queue_flow a, b;
    fair_queue_flow_init(&a);
    fair_queue_flow_init(&b);
    struct entry as[3], bs[2];
    push_many(&queue, &a, as, 3, 'a');
    push_many(&queue, &b, bs, 2, 'b');
    struct fair_queue_item *first = fair_queue_next(&queue);
    REQUIRE(first != NULL);
    CHECK_INT(list_entry(first, struct entry, item)->flow, 'a');
    /* Dropping a's flow takes its queued items in order; b is untouched. */
    struct fair_queue_item *dropped = fair_queue_drop_flow(&queue, &a);
    REQUIRE(dropped != NULL);
    CHECK_INT(list_entry(dropped, struct entry, item)->number, 1);
    dropped = fair_queue_drop_flow(&queue, &a);
    REQUIRE(dropped != NULL);
    CHECK_INT(list_entry(dropped, struct entry, item)->number, 2);
    CHECK(fair_queue_drop_flow(&queue, &a) == NULL);
    CHECK_INT(fair_queue_flow_queued(&a), 0);
    CHECK_INT(fair_queue_flow_queued(&b), 2);
    CHECK_INT(fair_queue_in_flight(&queue), 1);
    CHECK_INT(fair_queue_queued(&queue), 2);
    struct fair_queue_item *next = fair_queue_next(&queue);
    REQUIRE(next != NULL);
    CHECK_INT(list_entry(next, struct entry, item)->flow, 'b');
    /* Dropping everything empties the queue and leaves the in-flight count. */
    int drops = 0;
    while (fair_queue_drop(&queue)) drops++;
    CHECK_INT(drops, 1);
    CHECK_INT(fair_queue_queued(&queue), 0);
    CHECK_INT(fair_queue_in_flight(&queue), 2);
    CHECK(!fair_queue_can_start(&queue));
    fair_queue_finished(&queue);
    fair_queue_finished(&queue);
    fair_queue_finished(&queue); /* one too many: stays at zero */
    CHECK_INT(fair_queue_in_flight(&queue), 0);
    /* The emptied flows can queue again. */
    push_many(&queue, &a, as, 1, 'a');
    CHECK(fair_queue_next(&queue) == &as[0].item);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(fair_queue_takes_flows_round_robin),
        TEST_CASE(fair_queue_keeps_the_order_within_a_flow),
        TEST_CASE(fair_queue_new_flow_waits_at_most_one_round),
        TEST_CASE(fair_queue_never_exceeds_the_limit),
        TEST_CASE(fair_queue_flow_that_returns_joins_at_the_end),
        TEST_CASE(fair_queue_drops_without_counting_in_flight),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}

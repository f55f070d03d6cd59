#include "reactor/list.h"
#include "test/support/test.h"

#include <stdlib.h>

struct item {
    int value;
    struct list_node link;
};

/* The values of `head` front to back into `out`; the count, at most `max`. */
static size_t values(struct list_node *head, int *out, size_t max)
{
    size_t n = 0;
    struct item *item;
    list_for_each_entry(item, head, link) {
        if (n < max) out[n] = item->value;
        n++;
    }
    return n;
}

/* The list read back to front agrees with the front-to-back walk. */
static bool links_agree(const struct list_node *head)
{
    size_t forward = 0, backward = 0;
    for (const struct list_node *node = head->next; node != head; node = node->next) {
        if (node->next->prev != node) return false;
        forward++;
    }
    for (const struct list_node *node = head->prev; node != head; node = node->prev) backward++;
    return forward == backward;
}

static void list_starts_empty_and_keeps_insertion_order(void)
{
    struct list_node head;
    list_init(&head);
    CHECK(list_empty(&head));
    CHECK(list_first_entry(&head, struct item, link) == NULL);
    int seen[4];
    CHECK_INT(values(&head, seen, 4), 0);

    struct item a = { .value = 1 }, b = { .value = 2 }, c = { .value = 3 };
    list_insert_tail(&head, &a.link);
    list_insert_tail(&head, &b.link);
    list_insert_head(&head, &c.link);
    CHECK(!list_empty(&head));
    REQUIRE(values(&head, seen, 4) == 3);
    CHECK_INT(seen[0], 3);
    CHECK_INT(seen[1], 1);
    CHECK_INT(seen[2], 2);
    CHECK(list_first_entry(&head, struct item, link) == &c);
    CHECK(links_agree(&head));
}

static void list_remove_unlinks_anywhere_and_twice_is_harmless(void)
{
    struct list_node head;
    list_init(&head);
    struct item items[3] = { { .value = 0 }, { .value = 1 }, { .value = 2 } };
    CHECK(!list_linked(&items[0].link)); /* zeroed: in no list */
    for (int i = 0; i < 3; i++) list_insert_tail(&head, &items[i].link);
    for (int i = 0; i < 3; i++) CHECK(list_linked(&items[i].link));

    list_remove(&items[1].link); /* the middle */
    CHECK(!list_linked(&items[1].link));
    list_remove(&items[1].link); /* again: nothing happens */
    int seen[3];
    REQUIRE(values(&head, seen, 3) == 2);
    CHECK_INT(seen[0], 0);
    CHECK_INT(seen[1], 2);
    CHECK(links_agree(&head));

    list_remove(&items[2].link); /* the tail */
    list_remove(&items[0].link); /* the head */
    CHECK(list_empty(&head));
    CHECK(links_agree(&head));

    /* A removed node can go into a list again. */
    list_insert_tail(&head, &items[1].link);
    REQUIRE(values(&head, seen, 3) == 1);
    CHECK_INT(seen[0], 1);

    /* Removing a node that never was in a list leaves both alone. */
    struct item stranger = { .value = 9 };
    list_remove(&stranger.link);
    CHECK(stranger.link.next == NULL && stranger.link.prev == NULL);
    CHECK_INT(values(&head, seen, 3), 1);
}

static void list_safe_walk_may_free_the_current_entry(void)
{
    struct list_node head;
    list_init(&head);
    for (int i = 0; i < 6; i++) {
        struct item *item = calloc(1, sizeof *item);
        REQUIRE(item);
        item->value = i;
        list_insert_tail(&head, &item->link);
    }
    /* Free the odd ones while walking. */
    struct item *item, *spare;
    int visited = 0;
    list_for_each_entry_safe(item, spare, &head, link) {
        CHECK_INT(item->value, visited);
        visited++;
        if (item->value % 2) {
            list_remove(&item->link);
            free(item);
        }
    }
    CHECK_INT(visited, 6);
    int seen[6];
    REQUIRE(values(&head, seen, 6) == 3);
    CHECK_INT(seen[0], 0);
    CHECK_INT(seen[1], 2);
    CHECK_INT(seen[2], 4);
    CHECK(links_agree(&head));
    /* Empty it the way owners tear down: take the first until none is left. */
    while ((item = list_first_entry(&head, struct item, link))) {
        list_remove(&item->link);
        free(item);
    }
    CHECK(list_empty(&head));
    /* The safe walk over an empty list runs no body. */
    visited = 0;
    list_for_each_entry_safe(item, spare, &head, link) visited++;
    CHECK_INT(visited, 0);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(list_starts_empty_and_keeps_insertion_order),
        TEST_CASE(list_remove_unlinks_anywhere_and_twice_is_harmless),
        TEST_CASE(list_safe_walk_may_free_the_current_entry),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}

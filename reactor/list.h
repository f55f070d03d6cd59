/*
 * list: the one intrusive doubly linked list. Anything that keeps a set of
 * live objects it must walk and unlink in O(1) (a client's requests in
 * flight, a server's connections, watches, held timers) embeds a
 * `struct list_node` in each object and keeps one `struct list_node` as the
 * list's head.
 *
 * The list is circular around its head: an empty list is a head linked to
 * itself, so a head must be set up with list_init before use (a zeroed head
 * is not a valid list). A node that is in no list is either zeroed (never
 * inserted) or linked to itself (list_remove leaves it so); list_linked
 * tells the two cases from a member, and list_remove on such a node does
 * nothing, so unlinking twice is harmless.
 *
 * The list owns nothing: it only links memory its callers own, and never
 * allocates or frees. A node is in at most one list at a time. Everything is
 * static inline; there is no list.c.
 *
 * Iteration: list_for_each_entry walks from head to tail and must not unlink
 * the entry it stands on; list_for_each_entry_safe may unlink (and free) the
 * current entry, but no other entry. The macros evaluate `head` more than
 * once: pass a plain expression such as `&client->requests`.
 */
#ifndef REACTOR_LIST_H
#define REACTOR_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_node {
    struct list_node *prev, *next;
};

/* Makes `head` an empty list (or `node` a detached node). */
static inline void list_init(struct list_node *head) { head->prev = head->next = head; }

static inline bool list_empty(const struct list_node *head) { return head->next == head; }

/* True while `node` is in some list (false for a zeroed or removed node). */
static inline bool list_linked(const struct list_node *node)
{
    return node->next != NULL && node->next != node;
}

static inline void list_link_between(struct list_node *node, struct list_node *prev,
                                     struct list_node *next)
{
    node->prev = prev;
    node->next = next;
    prev->next = node;
    next->prev = node;
}

/* Adds `node` (not in any list) at the front of the list `head`. */
static inline void list_insert_head(struct list_node *head, struct list_node *node)
{
    list_link_between(node, head, head->next);
}

/* Adds `node` (not in any list) at the back of the list `head`. */
static inline void list_insert_tail(struct list_node *head, struct list_node *node)
{
    list_link_between(node, head->prev, head);
}

/* Unlinks `node` from its list and leaves it detached; a node in no list
 * (zeroed or already removed) stays as it is. */
static inline void list_remove(struct list_node *node)
{
    if (!list_linked(node))
        return;
    node->prev->next = node->next;
    node->next->prev = node->prev;
    list_init(node);
}

/* The object of type `type` whose member `member` is the node `node`. */
#define list_entry(node, type, member) ((type *)((char *)(node) - offsetof(type, member)))

/* The object at `node`, or NULL when `node` is the head `head` itself (the
 * iterators never form a pointer from the head, which is no object). */
#define list_entry_or_null(node, head, type, member) \
    ((node) == (head) ? (type *)NULL : list_entry(node, type, member))

/* The first object of the list `head`, or NULL when it is empty. */
#define list_first_entry(head, type, member) list_entry_or_null((head)->next, head, type, member)

/* `entry` (a pointer to the object type) walks the list `head`, front to back. */
#define list_for_each_entry(entry, head, member)                                        \
    for (entry = list_first_entry(head, __typeof__(*entry), member); entry != NULL;    \
         entry = list_entry_or_null(entry->member.next, head, __typeof__(*entry), member))

/* As list_for_each_entry; the body may unlink or free `entry` (`spare` holds
 * the next one). */
#define list_for_each_entry_safe(entry, spare, head, member)                             \
    for (entry = list_first_entry(head, __typeof__(*entry), member),                    \
        spare = entry ? list_entry_or_null(entry->member.next, head, __typeof__(*entry), member) : NULL; \
         entry != NULL;                                                                  \
         entry = spare,                                                                  \
        spare = entry ? list_entry_or_null(entry->member.next, head, __typeof__(*entry), member) : NULL)

#endif

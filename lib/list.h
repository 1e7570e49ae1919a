/*
 * list.h - one intrusive doubly-linked list
 *
 * A struct gg_list is both the head of a list and the link a member
 * embeds; gg_list_entry() gets from a link back to its member.  Lists are
 * circular around their head, so every operation is O(1), needs no
 * pointer to the head, and works the same on an empty list: a member can
 * leave whatever list it is on (gg_list_remove()) without knowing which,
 * which is what a wait that is cancelled from a callback needs.
 *
 * A link is "unlinked" when it points to itself: gg_list_init() makes it
 * so and gg_list_remove() leaves it so, hence removing twice is harmless
 * and gg_list_linked() tells whether a member is on a list.  A zeroed link
 * is neither: initialise every head and link before use.
 *
 * gg_list_first()/gg_list_next() return NULL at the end, so the usual loop
 * is  for (l = gg_list_first(&h); l != NULL; l = gg_list_next(&h, l)).
 * To remove members while walking, take the next link before removing:
 * gg_list_pop() empties a list front to back.
 *
 * No allocation, no locking: the owner of the head serialises access.
 */
#ifndef GG_LIST_H
#define GG_LIST_H

#include <stddef.h>

struct gg_list {
	struct gg_list *prev, *next;
};

/* The member of type `type` whose `member` is the link l. */
#define gg_list_entry(l, type, member) \
	((type *)(void *)((char *)(l) - offsetof(type, member)))

/* gg_list_init - an empty head, or an unlinked link */
static inline void gg_list_init(struct gg_list *l)
{
	l->prev = l->next = l;
}

/* gg_list_empty - no members? */
static inline int gg_list_empty(const struct gg_list *head)
{
	return head->next == head;
}

/* gg_list_linked - is this link on some list? */
static inline int gg_list_linked(const struct gg_list *l)
{
	return l->next != l;
}

/* gg_list_insert_between - link n between two adjacent links */
static inline void gg_list_insert_between(struct gg_list *n, struct gg_list *prev,
					  struct gg_list *next)
{
	n->prev = prev;
	n->next = next;
	prev->next = n;
	next->prev = n;
}

/* gg_list_push_front - n becomes the first member */
static inline void gg_list_push_front(struct gg_list *head, struct gg_list *n)
{
	gg_list_insert_between(n, head, head->next);
}

/* gg_list_push_back - n becomes the last member */
static inline void gg_list_push_back(struct gg_list *head, struct gg_list *n)
{
	gg_list_insert_between(n, head->prev, head);
}

/* gg_list_remove - take n off its list (nothing if it is unlinked) */
static inline void gg_list_remove(struct gg_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

/* gg_list_first - the first member's link, NULL if empty */
static inline struct gg_list *gg_list_first(const struct gg_list *head)
{
	return head->next != head ? head->next : NULL;
}

/* gg_list_last - the last member's link, NULL if empty */
static inline struct gg_list *gg_list_last(const struct gg_list *head)
{
	return head->prev != head ? head->prev : NULL;
}

/* gg_list_next - the link after l, NULL after the last */
static inline struct gg_list *gg_list_next(const struct gg_list *head, const struct gg_list *l)
{
	return l->next != head ? l->next : NULL;
}

/* gg_list_prev - the link before l, NULL before the first */
static inline struct gg_list *gg_list_prev(const struct gg_list *head, const struct gg_list *l)
{
	return l->prev != head ? l->prev : NULL;
}

/* gg_list_pop - remove and return the first member's link, NULL if empty */
static inline struct gg_list *gg_list_pop(struct gg_list *head)
{
	struct gg_list *l = gg_list_first(head);

	if (l != NULL)
		gg_list_remove(l);
	return l;
}

/* gg_list_move - every member of src, in order, to the end of dst; src is left empty */
static inline void gg_list_move(struct gg_list *dst, struct gg_list *src)
{
	if (gg_list_empty(src))
		return;
	src->next->prev = dst->prev;
	dst->prev->next = src->next;
	src->prev->next = dst;
	dst->prev = src->prev;
	gg_list_init(src);
}

#endif

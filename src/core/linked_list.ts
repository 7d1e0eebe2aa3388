/** A member of a `LinkedList`. Its links live on the member, so listing it allocates nothing. */
export class ListNode {
  /** Neighbours while listed; both cleared on removal, so a removed node refers to no other. */
  prev: ListNode | null = null;
  next: ListNode | null = null;
  /** The list holding the node, or null. */
  list: LinkedList<ListNode> | null = null;
}

/**
 * An insertion-ordered list of per-request members, for the long-lived registries the hot path
 * adds to and removes from on every request.
 *
 * A `Set` is the obvious choice and the wrong one there. In V8, a long-lived Set's table sits in
 * the old generation, and the tables it replaces as members come and go keep referring to the
 * members they held. Young-generation collections take those references as live, so members
 * removed long ago, and everything they reach, survived each collection and were promoted, to be
 * freed only by a full collection. A removed node here is cleared, and nothing refers to it.
 */
export class LinkedList<T extends ListNode> {
  #head: ListNode | null = null;
  #tail: ListNode | null = null;
  #size = 0;

  /** Number of members. */
  get size(): number {
    return this.#size;
  }

  /** Appends a member that is not in a list. */
  push(node: T): void {
    if (node.list !== null) throw new Error("node is already in a list");
    node.list = this as LinkedList<ListNode>;
    node.prev = this.#tail;
    if (this.#tail === null) this.#head = node;
    else this.#tail.next = node;
    this.#tail = node;
    this.#size++;
  }

  /** Removes a member; false when the node is not in this list (removed already, say). */
  remove(node: T): boolean {
    if (node.list !== this) return false;
    const { prev, next } = node;
    if (prev === null) this.#head = next;
    else prev.next = next;
    if (next === null) this.#tail = prev;
    else next.prev = prev;
    node.prev = node.next = null;
    node.list = null;
    this.#size--;
    return true;
  }

  /** Calls `fn` for each member in order. `fn` must not add or remove members. */
  forEach(fn: (node: T) => void): void {
    for (let node = this.#head; node !== null; node = node.next) fn(node as T);
  }

  /** The members now, in order: a copy to walk while the list changes. */
  toArray(): T[] {
    const out: T[] = [];
    this.forEach((node) => out.push(node));
    return out;
  }
}

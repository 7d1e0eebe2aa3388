import assert from "node:assert/strict";
import { IdleWatch } from "../../src/core/idle_watch.ts";
import { LinkedList, ListNode } from "../../src/core/linked_list.ts";

class Item extends ListNode {
  constructor(readonly name: string) {
    super();
  }
}

const names = (list: LinkedList<Item>) => list.toArray().map((item) => item.name);

Deno.test("a linked list keeps insertion order through removals at the head, middle and tail", () => {
  const list = new LinkedList<Item>();
  const [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map((n) => new Item(n));
  for (const item of [a, b, c, d, e]) list.push(item!);
  assert.deepEqual(names(list), ["a", "b", "c", "d", "e"]);
  assert.equal(list.remove(c!), true);
  assert.equal(list.remove(a!), true);
  assert.equal(list.remove(e!), true);
  assert.deepEqual(names(list), ["b", "d"]);
  assert.equal(list.size, 2);
  list.push(a!);
  assert.deepEqual(names(list), ["b", "d", "a"]);
  for (const item of [b, d, a]) list.remove(item!);
  assert.equal(list.size, 0);
  assert.deepEqual(names(list), []);
  list.push(e!);
  assert.deepEqual(names(list), ["e"]);
});

Deno.test("a removed node refers to nothing, and removing it again changes nothing", () => {
  const list = new LinkedList<Item>();
  const [a, b, c] = ["a", "b", "c"].map((n) => new Item(n));
  for (const item of [a, b, c]) list.push(item!);
  list.remove(b!);
  // The point of the list: nothing of a removed member stays linked, in either direction.
  assert.equal(b!.prev, null);
  assert.equal(b!.next, null);
  assert.equal(b!.list, null);
  assert.equal(a!.next, c);
  assert.equal(c!.prev, a);
  assert.equal(list.remove(b!), false);
  assert.equal(list.size, 2);
  assert.deepEqual(names(list), ["a", "c"]);
});

Deno.test("a node belongs to one list at a time", () => {
  const one = new LinkedList<Item>();
  const two = new LinkedList<Item>();
  const a = new Item("a");
  one.push(a);
  assert.throws(() => two.push(a), /already in a list/);
  assert.throws(() => one.push(a), /already in a list/);
  assert.equal(two.remove(a), false);
  assert.deepEqual(names(one), ["a"]);
  one.remove(a);
  two.push(a);
  assert.deepEqual(names(two), ["a"]);
  assert.equal(one.size, 0);
  two.remove(a);
});

Deno.test("toArray is a copy: members can be removed while walking it", () => {
  const list = new LinkedList<Item>();
  const items = ["a", "b", "c", "d"].map((n) => new Item(n));
  for (const item of items) list.push(item);
  const seen: string[] = [];
  for (const item of list.toArray()) {
    seen.push(item.name);
    list.remove(item);
    if (item.name === "a") list.remove(items[2]!);
  }
  assert.deepEqual(seen, ["a", "b", "c", "d"]);
  assert.equal(list.size, 0);
});

/** Waits until `done()` holds, letting the watch's interval run. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 1));
}

Deno.test("the idle watch fires entries past their limit, once, and not touched ones", async () => {
  let now = 1_000;
  const watch = new IdleWatch(1, () => now);
  const fired: string[] = [];
  const slow = watch.add(100, () => fired.push("slow"));
  const touched = watch.add(50, () => fired.push("touched"));
  watch.add(50, () => fired.push("idle"));
  now = 1_040;
  watch.touch(touched);
  now = 1_060;
  await until(() => fired.length === 1);
  assert.deepEqual(fired, ["idle"]);
  assert.equal(watch.size, 2);
  now = 1_100;
  await until(() => fired.length === 3);
  assert.deepEqual(fired.sort(), ["idle", "slow", "touched"]);
  assert.equal(watch.size, 0);
  // Removing a fired entry is harmless.
  watch.remove(slow);
  assert.equal(watch.size, 0);
});

Deno.test("an entry removed by an earlier callback in the same sweep does not fire", async () => {
  let now = 0;
  const watch = new IdleWatch(1, () => now);
  const fired: string[] = [];
  // The first due entry's callback removes the second one and adds a third.
  watch.add(10, () => {
    fired.push("first");
    watch.remove(second);
    watch.add(10, () => fired.push("third"));
  });
  const second = watch.add(10, () => fired.push("second"));
  now = 10;
  await until(() => fired.length === 1);
  assert.equal(watch.size, 1);
  now = 20;
  await until(() => fired.length === 2);
  assert.deepEqual(fired, ["first", "third"]);
  assert.equal(watch.size, 0);
});

Deno.test("the idle watch's interval outlives its last entry by one tick, then stops", async () => {
  const watch = new IdleWatch(1);
  assert.equal(watch.running, false);
  const first = watch.add(60_000, () => {});
  assert.equal(watch.running, true);
  watch.remove(first);
  // Still running: the next request, if it comes within the tick, reuses the interval.
  assert.equal(watch.running, true);
  const second = watch.add(60_000, () => {});
  watch.remove(second);
  await until(() => !watch.running);
  assert.equal(watch.size, 0);
  // And it starts again with the next entry; close() stops it at once.
  watch.add(60_000, () => {});
  assert.equal(watch.running, true);
  watch.close();
  assert.equal(watch.running, false);
});

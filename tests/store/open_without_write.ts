// Run without --allow-write by open_test.ts: opens the default store at the path given.
import { openStore } from "../../src/store/open.ts";

const opened = await openStore(null, { defaultPath: Deno.args[0] });
console.log(opened.store === null ? `no store: ${opened.reason}` : `opened ${opened.location}`);
await opened.store?.close();

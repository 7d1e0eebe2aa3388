// Opens the sqlite store at the path it is sent and answers "opened" (or the error), so the
// migration test can race several threads on one new file.
import { openSqliteStore } from "../../src/store/sqlite.ts";

/** The worker side of the message channel (the checked program's `self` is a window). */
const scope = self as unknown as {
  onmessage: (event: MessageEvent<string>) => void;
  postMessage(message: string): void;
};

scope.onmessage = async (event) => {
  try {
    const store = openSqliteStore(event.data);
    await store.close();
    scope.postMessage("opened");
  } catch (error) {
    scope.postMessage(`error: ${error instanceof Error ? error.message : String(error)}`);
  }
};

"""A step that prints a line every 0.3 s for about 2 s: for following its logs live."""

import time

from stepwell import FlowSpec, step


class ChattyFlow(FlowSpec):
    @step
    def start(self):
        for i in range(7):
            print(f"tick {i}", flush=True)
            time.sleep(0.3)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ChattyFlow()

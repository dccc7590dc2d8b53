"""@cache with @retry and @catch: a caught failure is never reused.

'risky' fails while $FAIL_RISKY is set (@catch lets the run go on); each attempt
appends a line to $CACHE_TRACE.
"""

import os

from stepwell import FlowSpec, cache, catch, retry, step


class CatchCacheFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.risky)

    @cache
    @catch(var="problem")
    @retry(times=1)
    @step
    def risky(self):
        with open(os.environ["CACHE_TRACE"], "a") as out:
            out.write("risky\n")
        if os.environ.get("FAIL_RISKY"):
            raise ValueError("risky fails (FAIL_RISKY)")
        self.value = 1
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CatchCacheFlow()

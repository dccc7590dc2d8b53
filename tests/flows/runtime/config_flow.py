"""A Config read from a file sets decorator attributes and is read in steps."""

import os

from stepwell import Config, FlowSpec, environment, retry, step


class ConfigFlow(FlowSpec):
    settings = Config("settings", default_value={"env": {"MODE": "fast"}, "retries": 1})

    @environment(vars=settings.env)
    @retry(times=settings.retries, minutes_between_retries=0)
    @step
    def start(self):
        self.mode = os.environ.get("MODE")
        self.retries = self.settings.retries
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ConfigFlow()

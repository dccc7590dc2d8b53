"""A step that puts its secret in an exception message: it must be masked everywhere."""

import os

from stepwell import FlowSpec, secrets, step


class SecretErrorFlow(FlowSpec):
    @secrets(sources=["env:API_KEY"])
    @step
    def start(self):
        if os.environ.get("API_KEY"):
            raise PermissionError(f"rejected key {os.environ['API_KEY']}")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SecretErrorFlow()

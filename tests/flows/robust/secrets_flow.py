"""@secrets from the environment, a dotenv file and inline values; never stored, masked."""

import os

from stepwell import FlowSpec, Parameter, secrets, step


class SecretsFlow(FlowSpec):
    secrets_file = Parameter("secrets-file", default="", help="a dotenv file")

    @step
    def start(self):
        self.next(self.use)

    @secrets(
        sources=["env:DB_PASSWORD", {"type": "inline", "values": {"API_TOKEN": "tok-inline-5f2a"}}]
    )
    @step
    def use(self):
        password = os.environ["DB_PASSWORD"]
        print(f"connecting with {password}")
        print(f"token {os.environ['API_TOKEN']}")
        self.password_length = len(password)
        self.next(self.from_file)

    @step
    def from_file(self):
        self.file_secret_seen = os.environ.get("FILE_SECRET")
        self.next(self.check_file)

    @secrets(sources=[f"file:{os.environ.get('SECRETS_FILE_FOR_TEST', '/nonexistent')}"])
    @step
    def check_file(self):
        self.file_secret_length = len(os.environ["FILE_SECRET"])
        self.next(self.end)

    @step
    def end(self):
        self.leaked = [
            name
            for name in ("DB_PASSWORD", "API_TOKEN", "FILE_SECRET", "STEPWELL_SECRET_DB_PASSWORD")
            if name in os.environ
        ]


if __name__ == "__main__":
    SecretsFlow()

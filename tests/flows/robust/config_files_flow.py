"""Configs from TOML files, JSON on the command line and a YAML default."""

from stepwell import Config, FlowSpec, resources, step


class ConfigFilesFlow(FlowSpec):
    train = Config("train", default_value={"cpu": 1, "epochs": 1})
    extra = Config("extra", default_value={"note": "default"})

    @resources(cpu=train.cpu, memory=64)
    @step
    def start(self):
        self.epochs = self.train.epochs
        self.note = self.extra.note
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ConfigFilesFlow()

"""A flow that runs after AirflowShapesFlow succeeds, in a @project branch, and at 02:30 in
Paris too.
"""

from stepwell import FlowSpec, project, schedule, step, trigger_on_finish


@project(name="shapes")
@trigger_on_finish(flow="AirflowShapesFlow")
@schedule(cron="30 2 * * *", timezone="Europe/Paris")
class AirflowDownstreamFlow(FlowSpec):
    """Reads what the upstream flow made."""

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    AirflowDownstreamFlow()

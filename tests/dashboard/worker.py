"""The Python worker of the dashboard's browser test: one public Logic Module and one job type
that always fails (so that it dead-letters). AEROSTACK_API_KEY / AEROSTACK_API_URL name the
platform."""

from aerostack import hooks


@hooks.module("greet", name="Greet someone", methods=["POST", "GET"], public=True)
async def greet(sdk, event):
    data = event.data or event.get("query") or {}
    return {"hello": data.get("name", "world")}


@hooks.job("flaky-report")
def flaky_report(sdk, job):
    raise RuntimeError("the report service is down (on purpose)")


@hooks.on_event("auth.register.after")
async def on_signup(sdk, event):
    return None


if __name__ == "__main__":
    hooks.run(concurrency=2)

import marimo

__generated_with = "0.19.7"
app = marimo.App(width="medium")


@app.function
async def delays(seconds):
    import asyncio

    pending = [asyncio.create_task(asyncio.sleep(s, s)) for s in seconds]
    for done in asyncio.as_completed(pending):
        yield await done


@app.cell
async def _():
    import marimo as mo

    arrived = [s async for s in mo.status.progress_bar(delays([0.03, 0.01, 0.02]), total=3)]
    return (arrived,)


if __name__ == "__main__":
    app.run()

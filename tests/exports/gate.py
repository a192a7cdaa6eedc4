"""A PDF render held at 40 % until the test lets it go: WeasyPrint's write_pdf waits on an event.

The background runner's tests use it to see a document queued or rendering when the request
has already answered, without timing anything."""

import threading

import weasyprint

from crf.background import background_idle

DEADLINE_SECONDS = 60


class RenderGate:
    def __init__(self, monkeypatch) -> None:
        self.started = threading.Event()  # the render reached WeasyPrint (progress 40 %)
        self.release = threading.Event()
        real = weasyprint.HTML
        gate = self

        class GatedHTML:
            def __init__(self, *args, **kwargs) -> None:
                self._html = real(*args, **kwargs)

            def write_pdf(self, *args, **kwargs):
                gate.started.set()
                if not gate.release.wait(DEADLINE_SECONDS):
                    raise RuntimeError("The render gate was never released.")
                return self._html.write_pdf(*args, **kwargs)

        monkeypatch.setattr(weasyprint, "HTML", GatedHTML)

    def wait_started(self) -> None:
        assert self.started.wait(DEADLINE_SECONDS), "the render never reached WeasyPrint"

    def close(self) -> None:
        """Let any held render finish and wait for the runner, so no job outlives the test's data."""
        self.release.set()
        assert background_idle(timeout=DEADLINE_SECONDS * 2), "a background job did not finish"

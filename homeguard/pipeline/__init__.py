"""The pipeline: frames from a capture source in, events out to the sinks, state kept.

Live capture and replay drive the very same object, frame by frame.
"""

from homeguard.pipeline.core import EventSink, Pipeline, PipelineStats

__all__ = ["EventSink", "Pipeline", "PipelineStats"]

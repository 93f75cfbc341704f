"""``add_audio``'s summary: a mono clip as the 16-bit WAV PyTorch's writer encodes."""

from __future__ import annotations

import io
import wave
from typing import Any

import numpy as np


def audio_summary(tag: str, samples: np.ndarray, sample_rate: int) -> Any:
    """A ``Summary`` holding ``samples`` (amplitudes in ``[-1, 1]``, any shape that
    squeezes to one axis) as a WAV clip at ``sample_rate`` Hz.

    Amplitudes beyond 1 are clipped after PyTorch's printed warning.

    Raises:
        AssertionError: the samples are not one axis (PyTorch's error).
    """
    from tensorboardX.proto.summary_pb2 import Summary

    array = samples.squeeze()
    if abs(array).max() > 1:
        print("warning: audio amplitude out of range, auto clipped.")
        array = array.clip(-1, 1)
    if array.ndim != 1:
        raise AssertionError("input tensor should be 1 dimensional.")
    pcm = (array * np.iinfo(np.int16).max).astype("<i2")
    encoded = io.BytesIO()
    with wave.open(encoded, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(sample_rate)
        clip.writeframes(pcm.tobytes())
    audio = Summary.Audio(sample_rate=sample_rate, num_channels=1,
                          length_frames=pcm.shape[-1], encoded_audio_string=encoded.getvalue(),
                          content_type="audio/wav")
    return Summary(value=[Summary.Value(tag=tag, audio=audio)])

"""Frames and the model: decoding, sources, the camera, the pose adapter, the engine."""

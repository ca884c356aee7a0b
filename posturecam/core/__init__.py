"""Pure judgement: numpy only, no OpenCV, no camera, no writes.

Landmarks in, metrics, verdicts, a timeline and advice out. Everything here
runs the same in a live monitor, a replay and a rescore.
"""

"""Bulk classification engines that go beyond one process (``ray_engine``)."""

"""Medians of reply times without merging: each day's times are stored sorted, and a
median over many days is found by bisecting their sorted lists."""

from __future__ import annotations

from bisect import bisect_right


def median(sorted_lists: list[list[int]]) -> float | None:
    """The median of the union of sorted lists (the mean of the middle two for an even count)."""
    count = sum(map(len, sorted_lists))
    if not count:
        return None
    middle = kth_smallest(sorted_lists, count // 2)
    if count % 2:
        return float(middle)
    return (kth_smallest(sorted_lists, count // 2 - 1) + middle) / 2


def kth_smallest(sorted_lists: list[list[int]], k: int) -> int:
    """The k-th smallest (from 0) value of the union of sorted integer lists."""
    lists = [values for values in sorted_lists if values]
    if len(lists) == 1:
        return lists[0][k]
    low, high = min(values[0] for values in lists), max(values[-1] for values in lists)
    while low < high:  # the smallest value with more than k values at or below it
        middle = (low + high) // 2
        if sum(bisect_right(values, middle) for values in lists) > k:
            high = middle
        else:
            low = middle + 1
    return low

"""Charts: pure SVG drawing (`drawing`, no ORM) and the choice of charts for a report
section or a measure page from its series (`series_charts`)."""

"""Key Headlines: the pure check of a sentence's numbers (`checks`, no ORM) and the figures
a headline may quote, read for a reader (`figures`)."""

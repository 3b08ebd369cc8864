"""Text and values, pure: words folded for comparison, the language of a text, and the checks
of a field value (enterprise number, email, phone, duration, date) in three languages."""

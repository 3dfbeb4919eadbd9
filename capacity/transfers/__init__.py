"""Transfer requests to several wards at once; the first accept places it (issue 13)."""

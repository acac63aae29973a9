"""The bureau's service hotline (96150): calls, callbacks, the migrants' service catalogue,
satisfaction follow-up and the monthly report."""

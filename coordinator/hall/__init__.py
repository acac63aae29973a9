"""The foreigners' service hall: visa, residence-permit and accommodation cases at the
counter, their documents, deadlines, decisions and the public status enquiry."""

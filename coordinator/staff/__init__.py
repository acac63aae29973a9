"""Staff administration: accounts, their access (two administrators where personal data is
concerned) and their life cycle."""

"""Board enrolment: tokens, the CA, the broker accounts, rotation and revocation."""

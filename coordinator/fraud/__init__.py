"""Economic-fraud early warning: merchants' filings, overdue detection, company identifiers,
alias ("vest") linking, explainable risk, investigators' workflow and published warnings."""

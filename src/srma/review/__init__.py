"""srma.review: the review process (risk of bias so far; import, screening and PRISMA to come)."""

"""The flow of records: where a review stands, PRISMA 2020 counts, export."""

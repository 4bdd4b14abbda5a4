"""accounts: users, with ``username`` shareable so reviews can provide it."""

from __future__ import annotations

import strawberry

from bench.subgraphs.data import UserRow, bench_data


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID
    name: str | None
    username: str | None = strawberry.federation.field(shareable=True)
    birthday: int | None

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        return cls(
            id=strawberry.ID(row.id), name=row.name, username=row.username, birthday=row.birthday
        )

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User | None:
        row = bench_data().user(str(id))
        return cls.from_row(row) if row else None


@strawberry.type
class Query:
    @strawberry.field
    def me(self) -> User | None:
        return User.resolve_reference(strawberry.ID("1"))

    @strawberry.field
    def user(self, id: strawberry.ID) -> User | None:
        return User.resolve_reference(id)

    @strawberry.field
    def users(self) -> list[User | None] | None:
        return [User.from_row(row) for row in bench_data().users]


schema = strawberry.federation.Schema(query=Query, federation_version="2.3")

"""People and roles (SPEC §1): provisioning and the questions every view asks about a user."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from measures.models import Department, Profile


def user_provision(
    *,
    username: str,
    role: str,
    department_codes: list[str],
    password: str,
    email: str = "",
    validate: bool = True,
):
    """Create or update a user with a role and departments; return (user, created)."""
    if role not in Profile.Role.values:
        raise ValidationError(
            f"unknown role {role!r}; use one of {', '.join(Profile.Role.values)}"
        )
    departments = list(Department.objects.filter(code__in=department_codes))
    unknown = sorted(set(department_codes) - {d.code for d in departments})
    if unknown:
        raise ValidationError(f"unknown department(s): {', '.join(unknown)}")
    if role == Profile.Role.LEAD and not departments:
        raise ValidationError("a lead needs at least one --department")
    User = get_user_model()
    with transaction.atomic():
        user, created = User.objects.get_or_create(username=username)
        if validate:
            validate_password(password, user)
        user.set_password(password)
        user.email = email or user.email
        user.is_staff = role == Profile.Role.ADMIN
        user.is_superuser = role == Profile.Role.ADMIN
        user.save()
        profile, _ = Profile.objects.get_or_create(user=user)
        profile.role = role
        profile.save(update_fields=["role"])
        profile.departments.set(departments)
    return user, created

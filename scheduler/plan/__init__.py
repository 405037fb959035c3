"""The plan file and the contacts file: their schema, loading and validation."""

from scheduler.plan.contacts import Contact, load_contacts
from scheduler.plan.load import load_plan
from scheduler.plan.model import GOVERNMENT, Plan

__all__ = ["GOVERNMENT", "Contact", "Plan", "load_contacts", "load_plan"]

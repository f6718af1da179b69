"""Reactions to changes made outside the services (the user admin)."""

from django.contrib.auth import get_user_model
from django.db.models.signals import pre_save
from django.dispatch import receiver

from .services.organisation import user_sessions_end


@receiver(pre_save, sender=get_user_model(), dispatch_uid="casework.user_deactivated")
def end_sessions_of_a_deactivated_user(sender, instance, raw=False, **kwargs):
    """A deactivated account's sessions and API tokens end now, so that reactivating it later
    does not bring an old session (on a shared school computer, say) or token back to life."""
    if raw or instance.pk is None or instance.is_active:
        return
    was_active = sender.objects.filter(pk=instance.pk, is_active=True).exists()
    if was_active:
        user_sessions_end(instance)

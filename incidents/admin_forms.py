"""Admin forms that refuse to overwrite someone else's newer save (optimistic locking)."""

from django import forms
from django.utils import timezone


class VersionedForm(forms.ModelForm):
    """Carries the version the user started from; refuses the save if the record moved on.

    Nothing is lost: the other person's save stays, and this form comes back with the
    user's own input and a message saying who changed the record and when.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        if cleaned.get("version") is None:
            # No version posted (a script, an old page): keep the record's own number.
            cleaned["version"] = instance.version
            return cleaned
        if instance.pk is None:
            return cleaned
        saved = type(instance).objects.filter(pk=instance.pk).values_list("version", flat=True).first()
        if saved is not None and saved != cleaned["version"]:
            raise forms.ValidationError(self.conflict_message(instance), code="edit_conflict")
        return cleaned

    @staticmethod
    def conflict_message(instance):
        latest = instance.history.order_by("-history_date").select_related("history_user").first()
        who = latest.history_user.get_username() if latest and latest.history_user else "someone else"
        when = (
            timezone.localtime(latest.history_date).strftime("%-d %B %Y at %H:%M") if latest else "meanwhile"
        )
        return (
            f"{instance._meta.verbose_name.capitalize()} “{instance}” was changed by {who} on {when}, "
            "after you opened it. Your changes were not saved, so theirs are kept. Open the record again "
            "to see their version, then make your changes again."
        )

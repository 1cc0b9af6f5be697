from django.contrib import admin

from rewards.models import Reward


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "cost_points", "value", "stock", "minimum_tier", "is_active", "sort_order"]
    list_filter = ["is_active", "kind", "minimum_tier"]
    list_editable = ["is_active", "sort_order"]
    search_fields = ["name", "description"]
    list_select_related = ["minimum_tier"]

include $(sort $(wildcard $(BR2_EXTERNAL_PALMD_PATH)/package/*/*.mk))

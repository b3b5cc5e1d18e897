"""The front ends (paster tgdeploy, gearbox tgdeploy, the tgdeploy console script, paster create
-t tg_modwsgi) and the run they share: detect -> settle -> write -> doctor/serve."""
